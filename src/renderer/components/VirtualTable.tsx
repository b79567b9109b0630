/**
 * A dense, sortable table that renders only the rows in view. Rows have one fixed height and
 * are memoized on their entry object: an update re-renders the rows whose entry changed, never
 * the whole table. A row that ends keeps its DOM node while its opacity fades.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useMemo, useRef, type CSSProperties } from "react";
import type { Column, SortSpec } from "../state/table-query.js";

const ROW_HEIGHT = 24;
const HEADER_HEIGHT = 28;
const rowHeight = () => ROW_HEIGHT;

export interface VirtualTableProps<Entry> {
  /** "flow" or "dns": the prefix of the test ids (flow-row, flow-sort). */
  kind: string;
  columns: readonly Column<Entry>[];
  rows: readonly Entry[];
  /** The time ages are shown against; 0 when no column shows an age. */
  now: number;
  sort: SortSpec;
  onSort(column: Column<Entry>): void;
  idOf(entry: Entry): number;
  endingOf(entry: Entry): "closed" | "removed" | null;
  /** What to say when there are no rows at all. */
  empty: string;
}

export function VirtualTable<Entry>(props: VirtualTableProps<Entry>) {
  const { kind, columns, rows, now, sort, onSort, idOf, endingOf } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const cellStyles = useMemo(() => columns.map(cellStyle), [columns]);
  // Below the columns' minimum widths the table scrolls sideways rather than squeezing them.
  const minWidth = useMemo(() => columns.reduce((sum, column) => sum + column.width, 0), [columns]);
  // Stable options, and positions by index: a fixed row height needs no per-row measurement, so
  // an update that reorders 10,000 rows does not make the virtualizer measure them again.
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: rowHeight,
    overscan: 12,
    scrollMargin: HEADER_HEIGHT,
  });
  const items = virtualizer.getVirtualItems();

  return (
    <div className="vtable" ref={scrollRef} role="table" aria-rowcount={rows.length + 1}>
      <div className="vtable-head" role="row" style={{ height: HEADER_HEIGHT, minWidth }}>
        {columns.map((column, index) => {
          const sorted = sort.column === column.id;
          return (
            <button
              key={column.id}
              type="button"
              role="columnheader"
              className={`vtable-th${column.align === "end" ? " end" : ""}${sorted ? " sorted" : ""}`}
              style={cellStyles[index]}
              data-testid={`${kind}-sort`}
              data-col={column.id}
              aria-sort={sorted ? (sort.direction === "asc" ? "ascending" : "descending") : "none"}
              onClick={() => onSort(column)}
            >
              <span className="vtable-th-label">{column.title}</span>
              <span className="sort-mark" aria-hidden="true">
                {sorted ? (sort.direction === "asc" ? "▲" : "▼") : ""}
              </span>
            </button>
          );
        })}
      </div>
      {rows.length === 0 ? (
        <div className="vtable-empty" data-testid={`${kind}-empty`}>
          {props.empty}
        </div>
      ) : (
        <div className="vtable-body" style={{ height: virtualizer.getTotalSize(), minWidth }}>
          {items.map((item) => {
            const entry = rows[item.index];
            if (entry === undefined) return null;
            return (
              <TableRow
                key={idOf(entry)}
                kind={kind}
                entry={entry}
                id={idOf(entry)}
                ending={endingOf(entry)}
                columns={columns}
                cellStyles={cellStyles}
                now={now}
                top={item.start - HEADER_HEIGHT}
                index={item.index}
              />
            );
          })}
        </div>
      )}
    </div>
  );
}

interface RowProps<Entry> {
  kind: string;
  entry: Entry;
  id: number;
  ending: "closed" | "removed" | null;
  columns: readonly Column<Entry>[];
  cellStyles: readonly CSSProperties[];
  now: number;
  top: number;
  index: number;
}

function RowView<Entry>({ kind, entry, id, ending, columns, cellStyles, now, top, index }: RowProps<Entry>) {
  const style: CSSProperties = { transform: `translateY(${top}px)`, height: ROW_HEIGHT };
  return (
    <div
      className={index % 2 === 1 ? "vtable-row odd" : "vtable-row"}
      role="row"
      aria-rowindex={index + 2}
      style={style}
      data-testid={`${kind}-row`}
      data-flow-id={kind === "flow" ? id : undefined}
      data-dns-id={kind === "dns" ? id : undefined}
      data-ending={ending ?? undefined}
    >
      {columns.map((column, index) => {
        const text = column.text(entry, now);
        return (
          <div
            key={column.id}
            role="cell"
            style={cellStyles[index]}
            className={column.align === "end" ? "vtable-td end" : "vtable-td"}
            data-col={column.id}
            title={column.tooltip?.(entry) ?? text}
          >
            {text}
          </div>
        );
      })}
    </div>
  );
}

const TableRow = memo(RowView) as typeof RowView;

/** Flex items of fixed width, or growing from their minimum: cheaper to lay out than a grid per row. */
function cellStyle(column: { width: number; grow?: number }): CSSProperties {
  return column.grow
    ? { flex: `${column.grow} 1 ${column.width}px`, minWidth: column.width }
    : { flex: `0 0 ${column.width}px` };
}
