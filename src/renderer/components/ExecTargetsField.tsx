/**
 * Saved `exec:` targets: a name and a command whose stdin and stdout reach a shell on the remote
 * (`kubectl exec -i devpod -- sh`). The command is checked as it is typed, with the same parser
 * main runs it with; main checks again when the settings are saved.
 */
import { useState } from "react";
import type { SavedExecTarget } from "../../shared/api.js";
import { parseCommandLine } from "../../shared/command-line.js";

function problemOf(name: string, command: string, saved: readonly SavedExecTarget[]): string | null {
  if (name.trim() === "" || command.trim() === "") return null;
  if (saved.some((target) => target.name === name.trim()))
    return `a command is already saved as ${name.trim()}`;
  if (/^(exec|codespace|ssh):/i.test(name.trim()))
    return "the name cannot start with exec:, ssh: or codespace:";
  try {
    parseCommandLine(command);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export function ExecTargetsField(props: {
  value: SavedExecTarget[];
  onChange(value: SavedExecTarget[]): void;
}) {
  const [name, setName] = useState("");
  const [command, setCommand] = useState("");
  const problem = problemOf(name, command, props.value);
  const ready = name.trim() !== "" && command.trim() !== "" && problem === null;
  const add = () => {
    if (!ready) return;
    props.onChange([...props.value, { name: name.trim(), command: command.trim() }]);
    setName("");
    setCommand("");
  };
  return (
    <div className="field" data-testid="settings-exec-targets">
      <span className="field-label">Commands</span>
      <span className="field-hint">
        Reach a remote through a command whose input and output reach a shell there, such as{" "}
        <code>kubectl exec -i devpod -c dev -- sh</code> or <code>docker exec -i devbox sh</code>. It runs on
        this computer without a shell; quote as in sh.
      </span>
      {props.value.map((target) => (
        <div className="exec-target" key={target.name} data-testid="settings-exec-target">
          <strong>{target.name}</strong> <code>{target.command}</code>{" "}
          <button
            type="button"
            className="btn small"
            aria-label={`Remove ${target.name}`}
            onClick={() => props.onChange(props.value.filter((other) => other.name !== target.name))}
          >
            Remove
          </button>
        </div>
      ))}
      <div className="exec-target-add">
        <input
          type="text"
          aria-label="Name"
          placeholder="devpod"
          data-testid="settings-exec-name"
          value={name}
          onChange={(event) => setName(event.target.value)}
        />
        <input
          type="text"
          aria-label="Command"
          placeholder="kubectl exec -i devpod -c dev -- sh"
          spellCheck={false}
          data-testid="settings-exec-command"
          value={command}
          onChange={(event) => setCommand(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter") {
              event.preventDefault();
              add();
            }
          }}
        />
        <button type="button" className="btn" data-testid="settings-exec-add" disabled={!ready} onClick={add}>
          Add
        </button>
      </div>
      {problem && (
        <p className="form-error" role="alert" data-testid="settings-exec-error">
          {problem}
        </p>
      )}
    </div>
  );
}
