/** Labels on a metric sample. */
export type Labels = Record<string, string>;

export interface Metrics {
  /** Adds to a counter (`dativo_rows_written_total`). */
  inc(name: string, value?: number, labels?: Labels): void;
  /** Sets a gauge. */
  set(name: string, value: number, labels?: Labels): void;
  /** Records an observation (durations in seconds, sizes in bytes). */
  observe(name: string, value: number, labels?: Labels): void;
}

interface Sample {
  type: 'counter' | 'gauge' | 'summary';
  labels: Labels;
  value: number;
  count: number;
}

function key(name: string, labels: Labels): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort())}`;
}

/** Keeps metrics in memory and renders them in the Prometheus text exposition format. */
export class MetricsRegistry implements Metrics {
  private readonly samples = new Map<string, { name: string } & Sample>();
  private readonly baseLabels: Labels;

  constructor(baseLabels: Labels = {}) {
    this.baseLabels = baseLabels;
  }

  private upsert(name: string, type: Sample['type'], labels: Labels | undefined): { name: string } & Sample {
    const all = { ...this.baseLabels, ...labels };
    const k = key(name, all);
    let sample = this.samples.get(k);
    if (!sample) {
      sample = { name, type, labels: all, value: 0, count: 0 };
      this.samples.set(k, sample);
    }
    return sample;
  }

  inc(name: string, value = 1, labels?: Labels): void {
    this.upsert(name, 'counter', labels).value += value;
  }
  set(name: string, value: number, labels?: Labels): void {
    this.upsert(name, 'gauge', labels).value = value;
  }
  observe(name: string, value: number, labels?: Labels): void {
    const s = this.upsert(name, 'summary', labels);
    s.value += value;
    s.count++;
  }

  /** The current value of a counter or gauge (sum for summaries). */
  get(name: string, labels: Labels = {}): number {
    return this.samples.get(key(name, { ...this.baseLabels, ...labels }))?.value ?? 0;
  }

  /** Prometheus text format (version 0.0.4). */
  render(): string {
    const byName = new Map<string, Array<{ name: string } & Sample>>();
    for (const s of this.samples.values()) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
    const lines: string[] = [];
    for (const [name, samples] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
      const type = samples[0]?.type ?? 'gauge';
      lines.push(`# TYPE ${name} ${type}`);
      for (const s of samples) {
        const labels = renderLabels(s.labels);
        if (type === 'summary') {
          lines.push(`${name}_sum${labels} ${s.value}`, `${name}_count${labels} ${s.count}`);
        } else lines.push(`${name}${labels} ${s.value}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

function renderLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}
