// uPlot and its stylesheet, in a chunk of their own: loaded by the first chart, so the
// experiments and runs pages never fetch or parse it.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export default uPlot;
