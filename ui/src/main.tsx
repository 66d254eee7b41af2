import { render } from "preact";
import { readEarly } from "./api";
import { App } from "./components/App";
import "./styles.css";

// A runs page opened afresh waits (100 ms at most) for the first rows index.html asked for, and
// draws them in its first render.
void readEarly(100).then(() => render(<App />, document.getElementById("app")!));
