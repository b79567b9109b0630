import "./styles.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.js";
import { createBridge } from "./bridge.js";
import { Controller, ControllerContext } from "./controller.js";
import { startTablesClock } from "./state/tables-store.js";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

const controller = new Controller(createBridge());
controller.start();
startTablesClock();

createRoot(root).render(
  <StrictMode>
    <ControllerContext.Provider value={controller}>
      <App />
    </ControllerContext.Provider>
  </StrictMode>,
);
