import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import type { Knex } from 'knex';
import type pg from 'pg';

/*
 * knex's PostgreSQL client with two changes that save work on every request (docs/decisions/0007):
 *
 * - A transaction's BEGIN is written together with its first statement instead of waiting a round trip
 *   for its own answer (the connections run in pg's pipeline mode). The first statement still fails if
 *   BEGIN did.
 * - Statements with parameters are prepared once per connection (named after their SQL text), so
 *   PostgreSQL parses and plans them once rather than on every request.
 */

const require = createRequire(import.meta.url);
// knex exposes neither class publicly; these paths have been stable since knex 0.95.
/* eslint-disable @typescript-eslint/no-explicit-any -- knex internals, untyped */
const ClientPG = require('knex/lib/dialects/postgres/index.js') as new (config: Knex.Config) => any;
const TransactionPG = require('knex/lib/dialects/postgres/execution/pg-transaction.js') as new (
  ...args: unknown[]
) => any;

/** A BEGIN sent but not yet answered, on the connection it was sent on. */
const PENDING_BEGIN = Symbol('pendingBegin');
type Connection = pg.Client & { [PENDING_BEGIN]?: Promise<unknown> };

/**
 * Bounded, so that statements whose text varies (an `IN` list of every length) cannot make each
 * connection keep prepared statements without end; past the bound, statements are simply not prepared.
 */
const MAX_PREPARED = 500;
const statementNames = new Map<string, string>();

function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < MAX_PREPARED) {
    name = `dramac_${statementNames.size}`;
    statementNames.set(sql, name);
  }
  return name;
}

const stream = (connection: Connection) =>
  (connection as unknown as { connection: { stream: Writable } }).connection.stream;

class PipelinedTransaction extends TransactionPG {
  begin(this: { isolationLevel?: string; readOnly?: boolean }, connection: Connection): Promise<unknown> {
    if (this.isolationLevel || this.readOnly || connection[PENDING_BEGIN]) {
      return (TransactionPG.prototype as { begin(c: Connection): Promise<unknown> }).begin.call(this, connection);
    }
    // Queued on the connection now, so it goes out before anything the transaction sends next; held
    // back (corked) until then, so that both leave in one write.
    stream(connection).cork();
    const begun = connection.query('BEGIN');
    begun.catch(() => {}); // awaited by the next statement (below); not unhandled meanwhile
    connection[PENDING_BEGIN] = begun;
    return Promise.resolve();
  }
}

export class PipelinedPgClient extends ClientPG {
  constructor(config: Knex.Config) {
    const connection =
      typeof config.connection === 'string' ? { connectionString: config.connection } : config.connection;
    super({ ...config, connection: { ...(connection as object), pipeline: true } as Knex.StaticConnectionConfig });
  }

  transaction(container: unknown, config: unknown, outerTx: unknown): unknown {
    return new PipelinedTransaction(this, container, config, outerTx);
  }

  _query(connection: Connection, obj: { sql?: string; bindings?: unknown[]; options?: object; response?: unknown }) {
    if (!obj.sql) throw new Error('The query is empty');
    const values = obj.bindings ?? [];
    const name = values.length > 0 ? statementName(obj.sql) : undefined;
    const config = { text: obj.sql, values, ...(name ? { name } : {}), ...obj.options };
    const begun = connection[PENDING_BEGIN];
    connection[PENDING_BEGIN] = undefined;
    const ran = connection.query(config as pg.QueryConfig);
    if (begun) stream(connection).uncork();
    // Both are in flight already; a failed BEGIN fails this statement too, so the transaction stops here.
    return (begun ? Promise.all([begun, ran]).then(([, response]) => response) : ran).then((response) => {
      obj.response = response;
      return obj;
    });
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */
