export function formatMoney(value: number | null | undefined): string {
  if (value == null) return "—";
  return `$${value.toFixed(value < 1 ? 3 : 2)}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** "Loudness −14.0 LUFS · true peak −1.5 dBTP" (EBU R128, as measured on the final mix). */
export function formatLoudness(lufs: number, truePeak: number | null | undefined): string {
  const n = (v: number) => v.toFixed(1).replace("-", "−");
  return `Loudness ${n(lufs)} LUFS${truePeak != null ? ` · true peak ${n(truePeak)} dBTP` : ""} (EBU R128)`;
}
