import assert from "node:assert/strict";
import { test } from "node:test";
import { Scoreboard } from "./scoreboard.js";

const holes = (board: Scoreboard, from: number): [number, number][] => {
  const found: [number, number][] = [];
  board.forEachHole(from, (left, right) => found.push([left, right]));
  return found;
};

test("blocks merge, stale and impossible ones are ignored, holes lie between them", () => {
  const board = new Scoreboard();
  assert.equal(board.add([{ left: 300, right: 400 }], 100, 1000), true);
  assert.equal(board.add([{ left: 300, right: 350 }], 100, 1000), false, "known already");
  board.add(
    [
      { left: 600, right: 700 },
      { left: 50, right: 90 }, // below sndUna
      { left: 900, right: 1100 }, // beyond sndMax
      { left: 500, right: 450 }, // empty
    ],
    100,
    1000,
  );
  board.add([{ left: 380, right: 500 }], 100, 1000);
  assert.equal(board.highest, 700);
  assert.deepEqual(holes(board, 100), [
    [100, 300],
    [500, 600],
  ]);
  board.acknowledged(450);
  assert.deepEqual(holes(board, 450), [[500, 600]]);
  board.acknowledged(700);
  assert.equal(board.isEmpty, true);
});

test("across the sequence wrap", () => {
  const board = new Scoreboard();
  board.add([{ left: 0x10, right: 0x20 }], 0xfffffff0, 0x100);
  assert.deepEqual(holes(board, 0xfffffff0), [[0xfffffff0, 0x10]]);
});
