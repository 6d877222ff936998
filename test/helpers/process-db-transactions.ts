// Whether a (frozen) process holds an open InnoDB transaction, so that a test
// freezes a worker only between its transactions: a worker stopped while it
// holds its partition's row lock would block the new owner's claim until it
// wakes, instead of being fenced off. Maps the process's TCP sockets (Linux
// /proc) to the client ports MariaDB shows in PROCESSLIST.HOST.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { sql } from './services.js';

/** Local ports of `pid`'s TCP connections to `remotePort` (IPv4 and IPv6), from /proc. */
export async function clientPortsOf(pid: number, remotePort: number): Promise<Set<number>> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]);
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || !inodes.has(cols[9])) continue;
      const local = Number.parseInt(cols[1].split(':')[1], 16);
      const remote = Number.parseInt(cols[2].split(':')[1], 16);
      if (remote === remotePort) ports.add(local);
    }
  }
  return ports;
}

/**
 * True when one of `pid`'s connections to the MariaDB server of `dbUrl` runs
 * an InnoDB transaction on the database of `dbUrl` (INNODB_TRX joined with
 * PROCESSLIST on the client port).
 */
export async function holdsTransaction(dbUrl: string, pid: number): Promise<boolean> {
  const u = new URL(dbUrl);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  const ports = await clientPortsOf(pid, Number(u.port || 3306));
  const rows = await sql<{ host: string }>(
    dbUrl,
    `SELECT p.HOST AS host FROM information_schema.INNODB_TRX t
    JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id WHERE p.DB = ?`,
    [database],
  );
  return rows.some((r) => ports.has(Number(r.host.slice(r.host.lastIndexOf(':') + 1))));
}
