// uPlot and its stylesheet, in a chunk of their own: imported by LineChart.tsx, which only the
// lazy pages that draw charts import, so the experiments and runs pages never fetch or parse it.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export default uPlot;
