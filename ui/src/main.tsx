import { render } from "preact";
import { readEarlyAnswers } from "./api";
import { App } from "./components/App";
import "./styles.css";

readEarlyAnswers();
render(<App />, document.getElementById("app")!);
