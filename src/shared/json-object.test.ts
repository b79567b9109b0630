import assert from "node:assert/strict";
import { test } from "node:test";
import { parseJsonObject } from "./json-object.js";

test("a JSON object comes back as its fields", () => {
  assert.deepEqual(parseJsonObject('{"id":1,"event":{"type":"log"}}'), { id: 1, event: { type: "log" } });
});

test("text that is not JSON, and JSON that is not an object, come back undefined", () => {
  for (const text of ["not json", "", "{", "null", "[1,2]", "42", '"text"', "true"])
    assert.equal(parseJsonObject(text), undefined, text);
});
