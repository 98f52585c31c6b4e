/**
 * Exact DynamoDB grants. The L2 `grantReadData`/`grantWriteData` helpers hand out action groups
 * (Scan, DeleteItem, every index via `index/*`); these grant only the listed actions on the table
 * or on named indexes, so a function cannot do what it does not need (e.g. the judge cannot update
 * counters). IAM authorizes TransactWriteItems through its parts (PutItem, UpdateItem,
 * ConditionCheckItem, DeleteItem), so there is no separate transaction action to grant.
 */

import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';

export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem'
  | 'ConditionCheckItem';

export function tableStatement(table: ITable, actions: readonly TableAction[]): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: actions.map((action) => `dynamodb:${action}`),
    resources: [table.tableArn],
  });
}

export function indexQueryStatement(table: ITable, indexNames: readonly string[]): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: ['dynamodb:Query'],
    resources: indexNames.map((indexName) => `${table.tableArn}/index/${indexName}`),
  });
}

export function grantTable(
  grantee: IGrantable,
  table: ITable,
  actions: readonly TableAction[],
  queryIndexes: readonly string[] = [],
): void {
  if (actions.length > 0) {
    grantee.grantPrincipal.addToPrincipalPolicy(tableStatement(table, actions));
  }
  if (queryIndexes.length > 0) {
    grantee.grantPrincipal.addToPrincipalPolicy(indexQueryStatement(table, queryIndexes));
  }
}
