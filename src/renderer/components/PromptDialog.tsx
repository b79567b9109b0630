/** Main's questions: trust a new host key, the passphrase of an SSH key, sudo's password. One at a time. */
import { useEffect, useRef, useState, type FormEvent } from "react";
import type { Prompt } from "../../shared/api.js";
import { useController } from "../controller.js";
import { useSessionStore } from "../state/session-store.js";

const TITLES: Record<Prompt["kind"], string> = {
  "host-key": "Trust this host key?",
  passphrase: "SSH key passphrase",
  "sudo-password": "sudo password on the remote",
};

export function PromptDialog() {
  const prompt = useSessionStore((s) => s.prompts[0]);
  if (!prompt) return null;
  return <PromptCard key={prompt.id} prompt={prompt} />;
}

function PromptCard({ prompt }: { prompt: Prompt }) {
  const controller = useController();
  const [passphrase, setPassphrase] = useState("");
  const firstField = useRef<HTMLInputElement & HTMLButtonElement>(null);
  const answer = (value: string | null) => void controller.answerPrompt(prompt.id, value);

  useEffect(() => {
    firstField.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") void controller.answerPrompt(prompt.id, null);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [controller, prompt.id]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    answer(prompt.kind === "host-key" ? "yes" : passphrase);
  };

  return (
    <div className="overlay">
      <form
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="prompt-title"
        data-testid="prompt-dialog"
        data-kind={prompt.kind}
        onSubmit={submit}
      >
        <h2 id="prompt-title">{TITLES[prompt.kind]}</h2>
        <p className="dialog-message" data-testid="prompt-message">
          {prompt.message}
        </p>
        {prompt.kind !== "host-key" ? (
          <>
            <input
              ref={firstField}
              type="password"
              data-testid="prompt-input"
              aria-label={prompt.kind === "passphrase" ? "Passphrase" : "Password"}
              autoComplete="off"
              value={passphrase}
              onChange={(event) => setPassphrase(event.target.value)}
            />
            <div className="actions">
              <button type="button" className="btn" data-testid="prompt-cancel" onClick={() => answer(null)}>
                Cancel
              </button>
              <button type="submit" className="btn primary" data-testid="prompt-submit">
                {prompt.kind === "passphrase" ? "Unlock" : "Connect"}
              </button>
            </div>
          </>
        ) : (
          <div className="actions">
            {/* Focus starts on the refusal: Enter must not trust a key by accident. */}
            <button
              ref={firstField}
              type="button"
              className="btn"
              data-testid="prompt-no"
              onClick={() => answer("no")}
            >
              Don’t trust
            </button>
            <button type="submit" className="btn primary" data-testid="prompt-yes">
              Trust and connect
            </button>
          </div>
        )}
      </form>
    </div>
  );
}
