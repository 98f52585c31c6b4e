/**
 * An in-memory single table behind aws-sdk-client-mock, for tests that run SEQUENCES of store
 * operations (and handler tests that want real accounting without a local cloud) and for the
 * store-cost benchmark, which sizes the items the real store writes. It evaluates the
 * subset of expression syntax the store uses: conditions joined by AND and OR, with parentheses (`=`, `<`, `<=`, `>=`, `>`
 * between attributes and values, `IN (...)`, `attribute_exists`, `attribute_not_exists`,
 * `begins_with`, `BETWEEN`), updates with SET (values and `if_not_exists`) / REMOVE / ADD, queries on the table and on GSIs, and
 * transactions that cancel with per-item reasons as DynamoDB does, query pages that end at Limit or
 * 1 MB as DynamoDB's do. Projection expressions are ignored (whole items come back). `failNext` injects a crash or an error into the next matching call.
 */
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { PK, SK, TABLE_INDEXES } from '#store/table-schema.ts';
import { itemSize } from './ddb-cost.ts';

type Item = Record<string, unknown>;
type Names = Record<string, string> | undefined;
type Values = Record<string, unknown> | undefined;

const INDEXES: Readonly<Record<string, { partitionKey: string; sortKey: string }>> = TABLE_INDEXES;

type CommandName =
  | 'Get'
  | 'Put'
  | 'Update'
  | 'Delete'
  | 'Query'
  | 'BatchWrite'
  | 'BatchGet'
  | 'TransactWrite';

export class FakeTable {
  readonly items = new Map<string, Item>();
  private readonly failures: Array<{
    command: CommandName;
    error: Error;
    when?: (input: never) => boolean;
  }> = [];

  /** The next call of `command` (matching `when`, if given) throws `error` instead of running. */
  failNext<I>(command: CommandName, error: Error, when?: (input: I) => boolean): void {
    this.failures.push({
      command,
      error,
      ...(when ? { when: when as (input: never) => boolean } : {}),
    });
  }

  get(pk: string, sk: string): Item | undefined {
    return this.items.get(`${pk}\u0000${sk}`);
  }

  /** Routes every command of an aws-sdk-client-mock'ed document client to this table. */
  attach(ddb: AwsClientStub<DynamoDBDocumentClient>): this {
    ddb.on(GetCommand).callsFake((input) => this.run('Get', input, () => this.doGet(input)));
    ddb.on(PutCommand).callsFake((input) => this.run('Put', input, () => this.doPut(input)));
    ddb
      .on(UpdateCommand)
      .callsFake((input) => this.run('Update', input, () => this.doUpdate(input)));
    ddb
      .on(DeleteCommand)
      .callsFake((input) => this.run('Delete', input, () => this.doDelete(input)));
    ddb.on(QueryCommand).callsFake((input) => this.run('Query', input, () => this.doQuery(input)));
    ddb
      .on(BatchWriteCommand)
      .callsFake((input) => this.run('BatchWrite', input, () => this.doBatchWrite(input)));
    ddb
      .on(BatchGetCommand)
      .callsFake((input) => this.run('BatchGet', input, () => this.doBatchGet(input)));
    ddb
      .on(TransactWriteCommand)
      .callsFake((input) => this.run('TransactWrite', input, () => this.doTransactWrite(input)));
    return this;
  }

  private run<T>(command: CommandName, input: unknown, operation: () => T): T {
    const index = this.failures.findIndex(
      (failure) => failure.command === command && (!failure.when || failure.when(input as never)),
    );
    if (index >= 0) {
      const [failure] = this.failures.splice(index, 1);
      throw failure!.error;
    }
    return structuredClone(operation());
  }

  private key(item: Item): string {
    return `${String(item[PK])}\u0000${String(item[SK])}`;
  }

  private doGet(input: { Key?: Item }) {
    const item = this.items.get(this.key(input.Key ?? {}));
    return item ? { Item: structuredClone(item) } : {};
  }

  private doPut(input: {
    Item?: Item;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Names;
    ExpressionAttributeValues?: Values;
    ReturnValuesOnConditionCheckFailure?: string;
  }) {
    const item = input.Item ?? {};
    const existing = this.items.get(this.key(item));
    if (
      input.ConditionExpression &&
      !evaluate(
        input.ConditionExpression,
        existing,
        input.ExpressionAttributeNames,
        input.ExpressionAttributeValues,
      )
    ) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        ...(existing && input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD'
          ? { Item: marshal(existing) as never }
          : {}),
      });
    }
    this.items.set(this.key(item), structuredClone(item));
    return {};
  }

  private doDelete(input: { Key?: Item }) {
    this.items.delete(this.key(input.Key ?? {}));
    return {};
  }

  private doUpdate(input: UpdateInput) {
    const existing = this.items.get(this.key(input.Key ?? {}));
    if (
      input.ConditionExpression &&
      !evaluate(
        input.ConditionExpression,
        existing,
        input.ExpressionAttributeNames,
        input.ExpressionAttributeValues,
      )
    ) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
      });
    }
    const next = applyUpdate(existing ?? { ...input.Key }, input);
    this.items.set(this.key(next), next);
    return input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(next) } : {};
  }

  private doQuery(input: QueryInput) {
    const names = input.ExpressionAttributeNames;
    const values = input.ExpressionAttributeValues;
    const gsi = input.IndexName ? INDEXES[input.IndexName] : undefined;
    const sortAttribute = gsi?.sortKey ?? SK;
    let rows = [...this.items.values()].filter((item) => {
      if (gsi && item[gsi.partitionKey] === undefined) return false;
      return evaluate(input.KeyConditionExpression ?? '', item, names, values);
    });
    rows.sort((x, y) => String(x[sortAttribute]).localeCompare(String(y[sortAttribute])));
    if (input.ScanIndexForward === false) rows.reverse();
    const start = input.ExclusiveStartKey;
    if (start) {
      const after = rows.findIndex((item) => item[PK] === start[PK] && item[SK] === start[SK]);
      rows = rows.slice(after + 1);
    }
    // As DynamoDB: a page ends at Limit items or once 1 MB was read (before any filter).
    let end = Math.min(rows.length, input.Limit ?? rows.length);
    let bytes = 0;
    for (let i = 0; i < end; i++) {
      bytes += itemSize(rows[i] as Item);
      if (bytes >= QUERY_PAGE_BYTES) end = i + 1;
    }
    const last = end < rows.length ? rows[end - 1] : undefined;
    rows = rows.slice(0, end);
    if (input.FilterExpression) {
      const filter = input.FilterExpression;
      rows = rows.filter((item) => evaluate(filter, item, names, values));
    }
    return {
      Items: rows.map((item) => structuredClone(item)),
      ...(last ? { LastEvaluatedKey: pageKey(last, gsi) } : {}),
    };
  }

  private doBatchWrite(input: {
    RequestItems?: Record<
      string,
      Array<{ PutRequest?: { Item?: Item }; DeleteRequest?: { Key?: Item } }>
    >;
  }) {
    for (const requests of Object.values(input.RequestItems ?? {})) {
      for (const request of requests) {
        if (request.PutRequest?.Item)
          this.items.set(
            this.key(request.PutRequest.Item),
            structuredClone(request.PutRequest.Item),
          );
        if (request.DeleteRequest?.Key) this.items.delete(this.key(request.DeleteRequest.Key));
      }
    }
    return {};
  }

  private doBatchGet(input: { RequestItems?: Record<string, { Keys?: Item[] }> }) {
    const responses: Record<string, Item[]> = {};
    for (const [table, request] of Object.entries(input.RequestItems ?? {})) {
      responses[table] = (request.Keys ?? []).flatMap((key) => {
        const item = this.items.get(this.key(key));
        return item ? [structuredClone(item)] : [];
      });
    }
    return { Responses: responses };
  }

  private doTransactWrite(input: {
    TransactItems?: Array<{ Update?: UpdateInput; Put?: PutInput }>;
  }) {
    const entries: Array<{ update?: UpdateInput; put?: PutInput; key: Item }> = [];
    for (const entry of input.TransactItems ?? []) {
      if (entry.Update) entries.push({ update: entry.Update, key: entry.Update.Key ?? {} });
      if (entry.Put) entries.push({ put: entry.Put, key: entry.Put.Item ?? {} });
    }
    const reasons = entries.map((entry) => {
      const write = entry.update ?? entry.put;
      const existing = this.items.get(this.key(entry.key));
      const ok =
        !write?.ConditionExpression ||
        evaluate(
          write.ConditionExpression,
          existing,
          write.ExpressionAttributeNames,
          write.ExpressionAttributeValues,
        );
      if (ok) return { Code: 'None' };
      return {
        Code: 'ConditionalCheckFailed',
        ...(existing && write?.ReturnValuesOnConditionCheckFailure === 'ALL_OLD'
          ? { Item: marshal(existing) }
          : {}),
      };
    });
    if (reasons.some((reason) => reason.Code !== 'None')) {
      throw new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: reasons as never,
      });
    }
    for (const entry of entries) {
      if (entry.put) {
        this.items.set(this.key(entry.key), structuredClone(entry.put.Item ?? {}));
        continue;
      }
      const existing = this.items.get(this.key(entry.key));
      const next = applyUpdate(existing ?? { ...entry.key }, entry.update ?? {});
      this.items.set(this.key(next), next);
    }
    return {};
  }
}

interface PutInput {
  Item?: Item;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Names;
  ExpressionAttributeValues?: Values;
  ReturnValuesOnConditionCheckFailure?: string;
}

interface UpdateInput {
  Key?: Item;
  UpdateExpression?: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Names;
  ExpressionAttributeValues?: Values;
  ReturnValues?: string;
  ReturnValuesOnConditionCheckFailure?: string;
}

/** DynamoDB's query page size. */
const QUERY_PAGE_BYTES = 1024 * 1024;

/** The key a page ends at: the table's keys, and the index's when the query used one. */
function pageKey(item: Item, gsi: { partitionKey: string; sortKey: string } | undefined): Item {
  return {
    [PK]: item[PK],
    [SK]: item[SK],
    ...(gsi
      ? { [gsi.partitionKey]: item[gsi.partitionKey], [gsi.sortKey]: item[gsi.sortKey] }
      : {}),
  };
}

interface QueryInput {
  ExclusiveStartKey?: Item;
  IndexName?: string;
  KeyConditionExpression?: string;
  FilterExpression?: string;
  ExpressionAttributeNames?: Names;
  ExpressionAttributeValues?: Values;
  ScanIndexForward?: boolean;
  Limit?: number;
}

/** Shallow marshalling, as cancellation reasons carry items. */
function marshal(item: Item): Item {
  return Object.fromEntries(
    Object.entries(item).map(([name, value]) => {
      if (typeof value === 'string') return [name, { S: value }];
      if (typeof value === 'number') return [name, { N: String(value) }];
      if (typeof value === 'boolean') return [name, { BOOL: value }];
      return [name, { M: {} }];
    }),
  );
}

function attributeName(token: string, names: Names): string {
  return token.startsWith('#') ? (names?.[token] ?? token) : token;
}

function operand(token: string, item: Item | undefined, names: Names, values: Values): unknown {
  if (token.startsWith(':')) return values?.[token];
  return item?.[attributeName(token, names)];
}

function compare(left: unknown, operator: string, right: unknown): boolean {
  if (left === undefined || right === undefined) return false;
  const l = left as number | string;
  const r = right as number | string;
  switch (operator) {
    case '=':
      return l === r;
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    case '>':
      return l > r;
    case '>=':
      return l >= r;
    default:
      throw new Error(`fake table: unsupported operator ${operator}`);
  }
}

function evaluate(
  expression: string,
  item: Item | undefined,
  names: Names,
  values: Values,
): boolean {
  // BETWEEN contains an AND of its own: protect it before splitting the conjunction.
  const protectedExpression = expression.replace(
    / BETWEEN (\S+) AND (\S+)/g,
    ' BETWEEN $1 __AND__ $2',
  );
  // OR binds looser than AND: a disjunction of conjunctions (parenthesized terms unwrapped).
  return splitTopLevel(protectedExpression, ' OR ').some((disjunct) =>
    splitTopLevel(unwrap(disjunct), ' AND ').every((part) => {
      const term = unwrap(part);
      return term.includes(' OR ') || (term.includes(' AND ') && !term.includes('__AND__'))
        ? evaluate(term, item, names, values)
        : evaluateTerm(term, item, names, values);
    }),
  );
}

/** Splits at `separator` outside parentheses. */
function splitTopLevel(expression: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < expression.length; index += 1) {
    const char = expression[index];
    if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    else if (depth === 0 && expression.startsWith(separator, index)) {
      parts.push(expression.slice(start, index));
      start = index + separator.length;
      index += separator.length - 1;
    }
  }
  parts.push(expression.slice(start));
  return parts;
}

/** A term without the parentheses that wrap all of it (`(a OR b)` → `a OR b`). */
function unwrap(term: string): string {
  let inner = term.trim();
  while (inner.startsWith('(') && inner.endsWith(')')) {
    let depth = 0;
    let wrapsAll = true;
    for (let index = 0; index < inner.length - 1; index += 1) {
      if (inner[index] === '(') depth += 1;
      else if (inner[index] === ')') depth -= 1;
      if (depth === 0) {
        wrapsAll = false;
        break;
      }
    }
    if (!wrapsAll) break;
    inner = inner.slice(1, -1).trim();
  }
  return inner;
}

function evaluateTerm(term: string, item: Item | undefined, names: Names, values: Values): boolean {
  // A parenthesised disjunction: `(attribute_not_exists(a) OR a <= :room)`.
  const disjunction = /^\((.+ OR .+)\)$/.exec(term);
  if (disjunction) {
    return disjunction[1]!
      .split(' OR ')
      .some((part) => evaluateTerm(part.trim(), item, names, values));
  }
  let match = /^attribute_not_exists\((\S+)\)$/.exec(term);
  if (match) return item?.[attributeName(match[1]!, names)] === undefined;
  match = /^attribute_exists\((\S+)\)$/.exec(term);
  if (match) return item?.[attributeName(match[1]!, names)] !== undefined;
  match = /^begins_with\((\S+), (\S+)\)$/.exec(term);
  if (match) {
    const value = operand(match[1]!, item, names, values);
    return (
      typeof value === 'string' && value.startsWith(String(operand(match[2]!, item, names, values)))
    );
  }
  match = /^(\S+) BETWEEN (\S+) __AND__ (\S+)$/.exec(term);
  if (match) {
    const value = operand(match[1]!, item, names, values);
    return (
      compare(value, '>=', operand(match[2]!, item, names, values)) &&
      compare(value, '<=', operand(match[3]!, item, names, values))
    );
  }
  match = /^(\S+) IN \((.+)\)$/.exec(term);
  if (match) {
    const value = operand(match[1]!, item, names, values);
    return match[2]!
      .split(',')
      .some((token) => operand(token.trim(), item, names, values) === value);
  }
  match = /^(\S+) (=|<|<=|>|>=) (\S+)$/.exec(term);
  if (match)
    return compare(
      operand(match[1]!, item, names, values),
      match[2]!,
      operand(match[3]!, item, names, values),
    );
  throw new Error(`fake table: unsupported condition "${term}"`);
}

function applyUpdate(existing: Item, update: UpdateInput): Item {
  const next: Item = structuredClone(existing);
  const names = update.ExpressionAttributeNames;
  const values = update.ExpressionAttributeValues;
  const sections = (update.UpdateExpression ?? '').split(/\b(?=SET |REMOVE |ADD )/);
  for (const section of sections) {
    const [keyword, ...rest] = section.trim().split(' ');
    // Commas inside a function call (if_not_exists(a, :b)) do not separate clauses.
    const clauses = rest
      .join(' ')
      .split(/,(?![^(]*\))/)
      .map((clause) => clause.trim())
      .filter(Boolean);
    for (const clause of clauses) {
      if (keyword === 'SET') {
        const [target, source] = clause.split('=').map((side) => side.trim());
        const ifNotExists = /^if_not_exists\((\S+), (\S+)\)$/.exec(source!);
        next[attributeName(target!, names)] = ifNotExists
          ? (operand(ifNotExists[1]!, next, names, values) ??
            operand(ifNotExists[2]!, next, names, values))
          : operand(source!, next, names, values);
      } else if (keyword === 'REMOVE') {
        delete next[attributeName(clause, names)];
      } else if (keyword === 'ADD') {
        const [target, source] = clause.split(' ');
        const name = attributeName(target!, names);
        next[name] = Number(next[name] ?? 0) + Number(operand(source!, next, names, values));
      } else {
        throw new Error(`fake table: unsupported update "${section}"`);
      }
    }
  }
  return next;
}
