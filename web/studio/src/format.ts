export function formatMoney(value: number | null | undefined): string {
  if (value == null) return "—";
  return `$${value.toFixed(value < 1 ? 3 : 2)}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
