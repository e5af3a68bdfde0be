import { StrictMode, useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { api, ApiError, savedToken, saveToken, type Run, type Schedule, type TenantTotals } from './api';
import './styles.css';

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function formatBytes(b: number): string {
  if (b < 1024) return `${b} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = b / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function formatTime(ms?: number): string {
  return ms ? new Date(ms).toLocaleTimeString() : '—';
}

function duration(run: Run): string {
  const s = run.durationSeconds ?? (run.startedAt ? (Date.now() - run.startedAt) / 1000 : undefined);
  return s === undefined ? '—' : `${s.toFixed(1)} s`;
}

/** Polls `load` every `ms` while mounted (the console is live without a reload). */
function usePoll<T>(load: () => Promise<T>, ms: number, deps: unknown[]): { data: T | undefined; error: string | undefined; refresh: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    const run = (): void => {
      load().then(
        (d) => live && (setData(d), setError(undefined)),
        (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)),
      );
    };
    run();
    const timer = setInterval(run, ms);
    return () => {
      live = false;
      clearInterval(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { data, error, refresh: useCallback(() => setTick((t) => t + 1), []) };
}

function Status({ status }: { status: Run['status'] }) {
  return <span className={`status status-${status}`} data-status={status}>{status}</span>;
}

function Login({ onDone, error }: { onDone: () => void; error?: string }) {
  const [token, setToken] = useState('');
  return (
    <form
      className="login"
      onSubmit={(e) => {
        e.preventDefault();
        saveToken(token.trim());
        onDone();
      }}
    >
      <h1>Dativo</h1>
      <p>Paste an API token (DATIVO_API_TOKEN, a token of runner.api.tokens, or the one printed by dativo start).</p>
      <input aria-label="API token" type="password" value={token} onChange={(e) => setToken(e.target.value)} placeholder="API token" autoFocus />
      <button type="submit">Sign in</button>
      {error ? <p className="error">{error}</p> : null}
    </form>
  );
}

function Runs({ onOpen, canWrite }: { onOpen: (id: string) => void; canWrite: boolean }) {
  const { data: runs, error } = usePoll(api.runs, 1000, []);
  return (
    <section>
      <h2>Runs</h2>
      {error ? <p className="error">{error}</p> : null}
      <table className="runs">
        <thead>
          <tr>
            <th>Run</th>
            <th>Tenant</th>
            <th>Job / schedule</th>
            <th>Status</th>
            <th>Rows</th>
            <th>Rows/s</th>
            <th>Bytes</th>
            <th>Duration</th>
            <th>Dead letters</th>
            <th>Queued</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(runs ?? []).map((r) => (
            <tr key={r.id} data-run={r.id} data-status={r.status}>
              <td>
                <a href={`#/runs/${encodeURIComponent(r.id)}`} onClick={() => onOpen(r.id)}>
                  {r.id.length > 28 ? `${r.id.slice(0, 28)}…` : r.id}
                </a>
              </td>
              <td>{r.tenant}</td>
              <td>{r.schedule ?? r.job ?? r.file.split('/').pop()}</td>
              <td>
                <Status status={r.status} />
                {r.attempts > 1 ? <span className="note"> (attempt {r.attempts})</span> : null}
              </td>
              <td className="num" data-field="rows">{formatCount(r.rows)}</td>
              <td className="num" data-field="rps">{formatCount(r.rowsPerSecond)}</td>
              <td className="num">{formatBytes(r.bytes)}</td>
              <td className="num">{duration(r)}</td>
              <td className="num">{r.deadLetters ? formatCount(r.deadLetters) : ''}</td>
              <td>{formatTime(r.queuedAt)}</td>
              <td>{canWrite && (r.status === 'running' || (r.status === 'queued' && r.queuedAt <= Date.now() + 1000)) ? <button onClick={() => void api.cancel(r.id)}>Cancel</button> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {runs && runs.length === 0 ? <p className="note">No runs yet: trigger a schedule, or `dativo submit --config job.yaml`.</p> : null}
    </section>
  );
}

function Schedules({ canWrite, onStarted }: { canWrite: boolean; onStarted: (id: string) => void }) {
  const { data: schedules, error, refresh } = usePoll(api.schedules, 3000, []);
  const [message, setMessage] = useState<string>();
  const act = (p: Promise<unknown>): void => {
    p.then(refresh, (e: unknown) => setMessage(e instanceof Error ? e.message : String(e)));
  };
  return (
    <section>
      <h2>Schedules</h2>
      {error || message ? <p className="error">{error ?? message}</p> : null}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Tenant</th>
            <th>When</th>
            <th>Next</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(schedules ?? []).map((s: Schedule) => (
            <tr key={s.name} data-schedule={s.name}>
              <td>{s.name}</td>
              <td>{s.tenant}</td>
              <td>{s.cron ? `${s.cron} (${s.timezone ?? 'UTC'})` : `every ${s.interval_seconds} s`}</td>
              <td>{s.next ? new Date(s.next).toLocaleString() : '—'}</td>
              <td>{!s.enabled ? 'disabled' : s.paused ? 'paused' : 'active'}</td>
              <td className="actions">
                {canWrite ? (
                  <>
                    <button
                      onClick={() =>
                        act(
                          api.trigger(s.name).then((r) => {
                            onStarted(r.id);
                          }),
                        )
                      }
                    >
                      Run now
                    </button>
                    {s.enabled ? s.paused ? <button onClick={() => act(api.resume(s.name))}>Resume</button> : <button onClick={() => act(api.pause(s.name))}>Pause</button> : null}
                  </>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Tenants() {
  const { data: tenants, error } = usePoll(api.tenants, 3000, []);
  return (
    <section>
      <h2>Tenants</h2>
      {error ? <p className="error">{error}</p> : null}
      <table>
        <thead>
          <tr>
            <th>Tenant</th>
            <th>Queued</th>
            <th>Running</th>
            <th>Finished</th>
            <th>Failed</th>
            <th>Rows</th>
            <th>Bytes</th>
            <th>Dead letters</th>
            <th>Concurrency</th>
          </tr>
        </thead>
        <tbody>
          {(tenants ?? []).map((t: TenantTotals) => (
            <tr key={t.tenant} data-tenant={t.tenant}>
              <td>{t.tenant}</td>
              <td className="num">{t.queued}</td>
              <td className="num">{t.running}</td>
              <td className="num">{t.finished}</td>
              <td className="num">{t.failed}</td>
              <td className="num">{formatCount(t.rows)}</td>
              <td className="num">{formatBytes(t.bytes)}</td>
              <td className="num">{formatCount(t.deadLetters)}</td>
              <td className="num">{t.concurrency ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function logText(line: string): string {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const { time, level, msg, message, ...rest } = o;
    const extra = Object.entries(rest)
      .filter(([k]) => !['runId', 'queuedRun', 'tenant', 'job', 'pid', 'hostname'].includes(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    return `${String(time ?? '').slice(11, 19)} ${String(level ?? '').padEnd(5)} ${String(msg ?? message ?? '')} ${extra}`;
  } catch {
    return line;
  }
}

function RunDetail({ id, onBack, canWrite }: { id: string; onBack: () => void; canWrite: boolean }) {
  const { data, error } = usePoll(() => api.run(id), 1000, [id]);
  const run = data?.run;
  const finished = run && !['queued', 'running'].includes(run.status);
  const dead = usePoll(() => (run?.deadLetters ? api.deadLetters(id) : Promise.resolve(undefined)), finished ? 60_000 : 3000, [id, run?.deadLetters]);
  const replay = run ? `dativo dlq replay --config ${run.file} --run ${run.id}` : '';
  return (
    <section className="detail">
      <button className="back" onClick={onBack}>
        ← Runs
      </button>
      <h2>Run {id}</h2>
      {error ? <p className="error">{error}</p> : null}
      {run ? (
        <>
          <dl>
            <dt>Status</dt>
            <dd>
              <Status status={run.status} />
              {canWrite && !finished ? <button onClick={() => void api.cancel(run.id)}>Cancel</button> : null}
            </dd>
            <dt>Tenant</dt>
            <dd>{run.tenant}</dd>
            <dt>Job file</dt>
            <dd>{run.file}</dd>
            <dt>Rows</dt>
            <dd data-field="rows">{formatCount(run.rows)}</dd>
            <dt>Rows/s</dt>
            <dd>{formatCount(run.rowsPerSecond)}</dd>
            <dt>Bytes</dt>
            <dd>{formatBytes(run.bytes)}</dd>
            <dt>Duration</dt>
            <dd>{duration(run)}</dd>
            <dt>Worker</dt>
            <dd>
              {run.worker ?? '—'}
              {run.attempts > 1 ? ` (attempt ${run.attempts})` : ''}
            </dd>
          </dl>
          {run.error ? <p className="error run-error">{run.error}</p> : null}
          {run.streams?.length ? (
            <ul className="streams">
              {run.streams.map((s) => (
                <li key={s.name}>
                  {s.done ? '✔' : '›'} {s.name}: {formatCount(s.rows)}
                  {s.expected !== undefined ? ` / ${formatCount(s.expected)}` : ''} rows {s.at ? `· ${s.at}` : ''}
                </li>
              ))}
            </ul>
          ) : null}
          <h3>Log</h3>
          <pre className="log">{(data?.logs ?? []).map(logText).join('\n')}</pre>
          {run.deadLetters ? (
            <>
              <h3>Dead letters ({formatCount(run.deadLetters)})</h3>
              <p className="note">
                {dead.data?.file} — replay them after fixing the cause: <code>{replay}</code>{' '}
                <button onClick={() => void navigator.clipboard?.writeText(replay)}>Copy replay command</button>
              </p>
              <table className="dead">
                <tbody>
                  {(dead.data?.entries ?? []).map((e, i) => (
                    <tr key={i}>
                      <td>{i + 1}</td>
                      <td>
                        <code>{JSON.stringify(e).slice(0, 400)}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

function App() {
  const [who, setWho] = useState<{ name: string; tenant?: string; write: boolean }>();
  const [authError, setAuthError] = useState<string>();
  const [route, setRoute] = useState(location.hash);
  const [tab, setTab] = useState<'runs' | 'schedules' | 'tenants'>('runs');
  const check = useCallback(() => {
    if (!savedToken()) return setWho(undefined);
    api.whoami().then(setWho, (e: unknown) => {
      setWho(undefined);
      setAuthError(e instanceof ApiError && e.status === 401 ? 'That token was refused.' : String(e));
    });
  }, []);
  useEffect(check, [check]);
  useEffect(() => {
    const on = (): void => setRoute(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  if (!who) return <Login onDone={check} error={authError} />;
  const open = (id: string): void => {
    location.hash = `#/runs/${encodeURIComponent(id)}`;
  };
  const runId = /^#\/runs\/(.+)$/.exec(route)?.[1];
  return (
    <div className="app">
      <header>
        <strong>Dativo</strong>
        <nav>
          {(['runs', 'schedules', 'tenants'] as const).map((t) => (
            <button
              key={t}
              className={!runId && tab === t ? 'active' : ''}
              onClick={() => {
                setTab(t);
                location.hash = '';
              }}
            >
              {t[0]?.toUpperCase()}
              {t.slice(1)}
            </button>
          ))}
        </nav>
        <span className="who">
          {who.name}
          {who.tenant ? ` · tenant ${who.tenant}` : ''}
          {who.write ? '' : ' · read only'}{' '}
          <button
            onClick={() => {
              saveToken('');
              setWho(undefined);
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main>
        {runId ? (
          <RunDetail
            id={decodeURIComponent(runId)}
            onBack={() => {
              setTab('runs');
              location.hash = '';
            }}
            canWrite={who.write}
          />
        ) : tab === 'runs' ? (
          <>
            <Runs onOpen={open} canWrite={who.write} />
          </>
        ) : tab === 'schedules' ? (
          <Schedules canWrite={who.write} onStarted={open} />
        ) : (
          <Tenants />
        )}
      </main>
    </div>
  );
}

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
