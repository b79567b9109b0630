/** The filter box, the session filter and counts above a table. */
interface TableToolbarProps {
  kind: string;
  filter: string;
  placeholder: string;
  onFilter(filter: string): void;
  /** The session whose rows show ("" for all), and the sessions to choose from. */
  session: string;
  sessions: readonly string[];
  onSession(session: string): void;
  summary: string;
}

export function TableToolbar(props: TableToolbarProps) {
  const { kind, filter, placeholder, onFilter, summary } = props;
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
      <select
        className="session-filter"
        data-testid={`${kind}-session-filter`}
        aria-label="Show the rows of"
        value={props.session}
        onChange={(event) => props.onSession(event.target.value)}
      >
        <option value="">All sessions</option>
        {props.sessions.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
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
