/** The filter box and counts above a table. */
interface TableToolbarProps {
  kind: string;
  filter: string;
  placeholder: string;
  onFilter(filter: string): void;
  summary: string;
}

export function TableToolbar({ kind, filter, placeholder, onFilter, summary }: TableToolbarProps) {
  return (
    <div className="table-toolbar">
      <input
        type="search"
        className="filter-input"
        data-testid={`${kind}-filter`}
        aria-label={placeholder}
        placeholder={placeholder}
        value={filter}
        spellCheck={false}
        onChange={(event) => onFilter(event.target.value)}
      />
      <span className="table-summary" data-testid={`${kind}-count`}>
        {summary}
      </span>
    </div>
  );
}

/** "1 match", "3 matches". */
export function count(n: number, one: string, many: string): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}
