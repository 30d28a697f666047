/** A CSV field: quoted when it holds the delimiter, a quote or a line break. */
export function csvField(text: string, delimiter = ','): string {
  return text.includes(delimiter) || text.includes('"') || text.includes('\n') || text.includes('\r') ? `"${text.replaceAll('"', '""')}"` : text;
}
