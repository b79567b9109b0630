#!/usr/bin/env node
// Draws the tray icons (one per session phase) and the app icon into resources/, with no
// dependency: shapes are tested per pixel with 8x8 supersampling and written by a small PNG
// encoder over node:zlib. The glyph is a ring closing on its own arrowhead (traffic that comes
// back); the phase shows in its colour on Windows and Linux, and in its shape everywhere, since
// macOS template images are black and alpha only and the menu bar tints them.
//
//   disconnected  faint ring               connecting    ring
//   connected     ring and a centre dot    reconnecting  dashed ring and a centre dot
//   error         ring and a cross
//
// Usage: node scripts/make-icons.mjs   (the generated files are committed)
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { deflateSync } from "node:zlib";

const root = new URL("..", import.meta.url).pathname;
const out = join(root, "resources");
const SAMPLES = 8;

const COLOURS = {
  disconnected: [140, 149, 159],
  connecting: [59, 130, 246],
  connected: [34, 163, 85],
  reconnecting: [227, 160, 8],
  error: [229, 72, 77],
};

// --- shapes, in a unit square (x right, y down); angles in degrees clockwise from 12 o'clock ---

const rad = (deg) => (deg * Math.PI) / 180;
const onCircle = (c, r, deg) => [c[0] + r * Math.sin(rad(deg)), c[1] - r * Math.cos(rad(deg))];
const angleOf = (c, x, y) => ((Math.atan2(x - c[0], -(y - c[1])) * 180) / Math.PI + 360) % 360;

function disc(c, r) {
  return (x, y) => (x - c[0]) ** 2 + (y - c[1]) ** 2 <= r * r;
}

/** A band of the circle from `from` to `to` degrees (clockwise), optionally dashed. */
function arc(c, r, width, from, to, dash = null) {
  const span = (to - from + 360) % 360;
  return (x, y) => {
    const d = Math.hypot(x - c[0], y - c[1]);
    if (Math.abs(d - r) > width / 2) return false;
    const along = (angleOf(c, x, y) - from + 360) % 360;
    if (along > span) return false;
    return dash === null || along % (dash.on + dash.off) <= dash.on;
  };
}

function triangle(a, b, c) {
  const side = (p, q, x, y) => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  return (x, y) => {
    const s1 = side(a, b, x, y);
    const s2 = side(b, c, x, y);
    const s3 = side(c, a, x, y);
    return (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0);
  };
}

/** A stroke from `a` to `b` with round ends. */
function segment(a, b, width) {
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  const length2 = dx * dx + dy * dy;
  return (x, y) => {
    const t = Math.max(0, Math.min(1, ((x - a[0]) * dx + (y - a[1]) * dy) / length2));
    return (x - a[0] - t * dx) ** 2 + (y - a[1] - t * dy) ** 2 <= (width / 2) ** 2;
  };
}

const union =
  (...shapes) =>
  (x, y) =>
    shapes.some((shape) => shape(x, y));

/** The ring with its arrowhead, centred on `c` with radius `r` (unit square coordinates). */
function ringArrow(c, r, width, dash = null) {
  const from = 60;
  const to = 345;
  // The arrowhead sits on the arc's end, pointing on around the circle towards its start.
  const base = onCircle(c, r, to);
  const tangent = [Math.cos(rad(to)), Math.sin(rad(to))];
  const normal = [Math.sin(rad(to)), -Math.cos(rad(to))];
  const half = width * 1.3;
  const length = width * 1.6;
  const head = triangle(
    [base[0] + normal[0] * half, base[1] + normal[1] * half],
    [base[0] - normal[0] * half, base[1] - normal[1] * half],
    [base[0] + tangent[0] * length, base[1] + tangent[1] * length],
  );
  const startCap = disc(onCircle(c, r, from), width / 2);
  return union(arc(c, r, width, from, to, dash), head, dash ? () => false : startCap);
}

/** Layers for one phase: [shape, [r, g, b, alpha 0..1], mode] painted in order. */
function trayLayers(phase, colour, template) {
  const c = [0.5, 0.5];
  const r = 0.31;
  const width = 0.14;
  const solid = [...colour, 1];
  switch (phase) {
    case "disconnected":
      // Grey is faint enough in colour; a template image has only its alpha to look inactive with.
      return [[ringArrow(c, r, width), [...colour, template ? 0.5 : 1]]];
    case "connecting":
      return [[ringArrow(c, r, width), solid]];
    case "connected":
      return [
        [ringArrow(c, r, width), solid],
        [disc(c, 0.12), solid],
      ];
    case "reconnecting":
      return [
        // Three dashes over the arc's 285 degrees, the last one carrying the arrowhead.
        [ringArrow(c, r, width, { on: 75, off: 30 }), solid],
        [disc(c, 0.12), solid],
      ];
    case "error":
      // A cross in the ring (an exclamation mark there would read as a power button).
      return [
        [ringArrow(c, r, width), solid],
        [segment([0.4, 0.4], [0.6, 0.6], 0.11), solid],
        [segment([0.6, 0.4], [0.4, 0.6], 0.11), solid],
      ];
  }
}

function appIconLayers() {
  const c = [0.5, 0.5];
  const corner = 0.2;
  const inset = 0.09;
  const roundedSquare = (x, y) => {
    const dx = Math.max(inset + corner - x, 0, x - (1 - inset - corner));
    const dy = Math.max(inset + corner - y, 0, y - (1 - inset - corner));
    return dx * dx + dy * dy <= corner * corner;
  };
  return [
    [roundedSquare, [22, 27, 34, 1]],
    [ringArrow(c, 0.24, 0.085), [255, 255, 255, 1]],
    [disc(c, 0.075), [...COLOURS.connected, 1]],
  ];
}

// --- raster and PNG ---

function render(size, layers) {
  const pixels = new Float64Array(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const i = (py * size + px) * 4;
      for (const [shape, [r, g, b, a], mode] of layers) {
        let hits = 0;
        for (let sy = 0; sy < SAMPLES; sy++)
          for (let sx = 0; sx < SAMPLES; sx++)
            if (shape((px + (sx + 0.5) / SAMPLES) / size, (py + (sy + 0.5) / SAMPLES) / size)) hits++;
        const coverage = hits / (SAMPLES * SAMPLES);
        if (coverage === 0) continue;
        if (mode === "erase") {
          for (let k = 0; k < 4; k++) pixels[i + k] *= 1 - coverage;
          continue;
        }
        // Premultiplied "over".
        const alpha = a * coverage;
        pixels[i] = r * alpha + pixels[i] * (1 - alpha);
        pixels[i + 1] = g * alpha + pixels[i + 1] * (1 - alpha);
        pixels[i + 2] = b * alpha + pixels[i + 2] * (1 - alpha);
        pixels[i + 3] = alpha + pixels[i + 3] * (1 - alpha);
      }
    }
  }
  const rgba = Buffer.alloc(size * size * 4);
  for (let i = 0; i < pixels.length; i += 4) {
    const alpha = pixels[i + 3];
    for (let k = 0; k < 3; k++) rgba[i + k] = alpha > 0 ? Math.round(pixels[i + k] / alpha) : 0;
    rgba[i + 3] = Math.round(alpha * 255);
  }
  return rgba;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An 8-bit RGBA PNG, no filtering (the images are tiny). */
export function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A Windows icon holding PNG images (supported since Windows Vista). */
function encodeIco(images) {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, png }, index) => {
    const entry = 6 + 16 * index;
    header.writeUInt8(size >= 256 ? 0 : size, entry);
    header.writeUInt8(size >= 256 ? 0 : size, entry + 1);
    header.writeUInt16LE(1, entry + 4);
    header.writeUInt16LE(32, entry + 6);
    header.writeUInt32LE(png.length, entry + 8);
    header.writeUInt32LE(offset, entry + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...images.map(({ png }) => png)]);
}

function main() {
  mkdirSync(join(out, "tray"), { recursive: true });
  const written = [];
  const write = (path, data) => {
    writeFileSync(join(out, path), data);
    written.push(path);
  };
  for (const [phase, colour] of Object.entries(COLOURS)) {
    for (const [suffix, size] of [
      ["", 16],
      ["@2x", 32],
    ]) {
      write(`tray/${phase}${suffix}.png`, encodePng(size, render(size, trayLayers(phase, colour, false))));
      write(
        `tray/${phase}Template${suffix}.png`,
        encodePng(size, render(size, trayLayers(phase, [0, 0, 0], true))),
      );
    }
  }
  write("icon.png", encodePng(512, render(512, appIconLayers())));
  write(
    "icon.ico",
    encodeIco(
      [16, 32, 48, 64, 128, 256].map((size) => ({
        size,
        png: encodePng(size, render(size, appIconLayers())),
      })),
    ),
  );
  console.log(`make-icons: wrote ${written.length} files under resources/`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
