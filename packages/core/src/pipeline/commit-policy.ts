/** When the runner commits staged data (on a checkpoint, whichever limit is reached first). */
export interface CommitPolicy {
  everyRows: number;
  everyBytes: number;
  everySeconds: number;
}

export const defaultCommitPolicy: CommitPolicy = {
  everyRows: 10_000_000,
  everyBytes: 1024 * 1024 * 1024,
  everySeconds: 300,
};

export class CommitTracker {
  rows = 0;
  bytes = 0;
  batches = 0;
  private since: number;
  private readonly policy: CommitPolicy;
  private readonly now: () => number;

  constructor(policy: CommitPolicy, now: () => number = Date.now) {
    this.policy = policy;
    this.now = now;
    this.since = now();
  }

  add(rows: number, bytes: number): void {
    this.rows += rows;
    this.bytes += bytes;
    this.batches++;
  }

  get due(): boolean {
    return this.rows >= this.policy.everyRows || this.bytes >= this.policy.everyBytes || (this.batches > 0 && this.now() - this.since >= this.policy.everySeconds * 1000);
  }

  reset(): void {
    this.rows = 0;
    this.bytes = 0;
    this.batches = 0;
    this.since = this.now();
  }
}
