// sql-create-context's CREATE TABLE contexts repeat tables (one statement per question the schema
// was derived from) and sometimes repeat a column in another case ("Major", "major"); SQLite
// rejects both. Merge them into one statement per table so the context can be executed.

const CREATE_TABLE = /CREATE\s+TABLE\s+("[^"]+"|`[^`]+`|\[[^\]]+\]|[\w.]+)\s*\(([^)]*)\)/gi;

/** One CREATE TABLE per table (case-insensitive), each column once; unchanged when nothing parses. */
export function mergeCreateTables(context: string): string {
  const tables = new Map<string, { name: string; columns: Map<string, string> }>();
  for (const match of context.matchAll(CREATE_TABLE)) {
    const [, name, body] = match;
    const key = name.toLowerCase();
    const table = tables.get(key) ?? { name, columns: new Map<string, string>() };
    tables.set(key, table);
    for (const column of body.split(',')) {
      const definition = column.trim();
      const columnName = definition.split(/\s+/)[0]?.toLowerCase();
      if (columnName && !table.columns.has(columnName)) table.columns.set(columnName, definition);
    }
  }
  if (tables.size === 0) return context;
  return [...tables.values()].map((t) => `CREATE TABLE ${t.name} (${[...t.columns.values()].join(', ')});`).join('\n');
}
