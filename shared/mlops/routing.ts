import { createHash } from 'node:crypto';
import type { Deployment, DeploymentRole } from './deployment.js';

/**
 * A routing key's fixed point in [0, 1) for a group: the first 32 bits of a SHA-256 of both, so
 * keys that differ in one character (`hour-1`, `hour-2`) are spread as evenly as random draws
 * (a few microseconds, next to the deployment read of the same request).
 */
export function routingPoint(group: string, routingKey: string): number {
  return createHash('sha256').update(group).update('\u0000').update(routingKey).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Which model of the deployment answers a request: the challenger for `trafficShare` of them.
 * With a routing key the choice is the key's (the same key, the same role, for as long as the
 * share is unchanged; raising the share only moves keys to the challenger); without one, `random`.
 */
export function chooseRole(deployment: Deployment, routingKey?: string, random: () => number = Math.random): DeploymentRole {
  const share = deployment.challenger?.trafficShare ?? 0;
  if (share <= 0) return 'champion';
  const point = routingKey === undefined ? random() : routingPoint(deployment.group, routingKey);
  return point < share ? 'challenger' : 'champion';
}
