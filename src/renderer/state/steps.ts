/** Where a connect is, step by step, for the progress list. */
import { CONNECT_STEPS, type ConnectStep, type SessionView } from "../../shared/api.js";

export type StepStatus = "done" | "current" | "pending";

export function stepStatus(session: Pick<SessionView, "phase" | "step">, step: ConnectStep): StepStatus {
  if (session.phase === "connected") return "done";
  if (session.step === null) return "pending";
  const index = CONNECT_STEPS.indexOf(step);
  const current = CONNECT_STEPS.indexOf(session.step);
  return index < current ? "done" : index === current ? "current" : "pending";
}
