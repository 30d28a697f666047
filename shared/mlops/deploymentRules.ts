import { ConflictError, NotFoundError, ValidationError } from '../platform/errors.js';
import { MAX_CHALLENGER_SHARE, MAX_DEPLOYMENT_HISTORY, type Deployment, type ModelRef } from './deployment.js';

/**
 * The rules of a group's deployment, as pure functions of the current deployment. Each answers
 * the next revision, or the current deployment itself when the change is already in place (a
 * retried promote), so the caller writes nothing.
 */

const sameModel = (a: ModelRef | undefined, b: ModelRef) => a !== undefined && a.modelId === b.modelId && a.version === b.version;
const named = (m: ModelRef) => `${m.modelId}@${m.version}`;

function existing(current: Deployment | undefined, group: string): Deployment {
  if (!current) throw new NotFoundError(`Group "${group}" has no deployment; promote a model first.`);
  return current;
}

/** The next revision: the changed roles, a challenger only when there is one. */
function revised(current: Deployment, roles: Pick<Deployment, 'champion' | 'history'> & { challenger?: Deployment['challenger'] }, at: string): Deployment {
  return {
    group: current.group,
    champion: roles.champion,
    ...(roles.challenger ? { challenger: roles.challenger } : {}),
    history: roles.history,
    revision: current.revision + 1,
    updatedAt: at,
  };
}

/** A challenger that became the champion is no longer a challenger. */
const challengerBeside = (current: Deployment, champion: ModelRef) => (current.challenger && !sameModel(current.challenger, champion) ? current.challenger : undefined);

/** `model` becomes the champion; the champion it replaces goes first in the (bounded) history. */
export function promote(current: Deployment | undefined, group: string, model: ModelRef, now: Date): Deployment {
  const at = now.toISOString();
  const champion = { modelId: model.modelId, version: model.version, since: at };
  if (!current) return { group, champion, history: [], revision: 1, updatedAt: at };
  if (sameModel(current.champion, model)) return current;
  const history = [{ ...current.champion, until: at }, ...current.history].slice(0, MAX_DEPLOYMENT_HISTORY);
  return revised(current, { champion, challenger: challengerBeside(current, model), history }, at);
}

/** `model` answers `trafficShare` of the requests; it replaces any other challenger. */
export function setChallenger(current: Deployment | undefined, group: string, model: ModelRef, trafficShare: number, now: Date): Deployment {
  if (!(trafficShare > 0 && trafficShare <= MAX_CHALLENGER_SHARE)) {
    const message = `A challenger's traffic share must be above 0 and at most ${MAX_CHALLENGER_SHARE}; got ${trafficShare}.`;
    throw new ValidationError(message, [{ pointer: 'body.trafficShare', message }]);
  }
  const deployed = existing(current, group);
  if (sameModel(deployed.champion, model)) throw new ConflictError(`${named(model)} is the champion of group "${group}"; a challenger must be another version.`);
  const same = sameModel(deployed.challenger, model);
  if (same && deployed.challenger?.trafficShare === trafficShare) return deployed;
  // A share change keeps the challenger's `since`: it has been challenging all along.
  const since = same && deployed.challenger ? deployed.challenger.since : now.toISOString();
  return revised(deployed, { champion: deployed.champion, challenger: { modelId: model.modelId, version: model.version, trafficShare, since }, history: deployed.history }, now.toISOString());
}

/** All traffic to the champion again. */
export function clearChallenger(current: Deployment | undefined, group: string, now: Date): Deployment {
  const deployed = existing(current, group);
  if (!deployed.challenger) return deployed;
  return revised(deployed, { champion: deployed.champion, history: deployed.history }, now.toISOString());
}

/**
 * The previous champion is the champion again. The one rolled back from is dropped, not kept in
 * history: a second rollback goes one further back instead of undoing the first.
 */
export function rollback(current: Deployment | undefined, group: string, now: Date): Deployment {
  const deployed = existing(current, group);
  const [previous, ...older] = deployed.history;
  if (!previous) throw new ConflictError(`Group "${group}" has no previous champion to roll back to.`);
  const at = now.toISOString();
  const champion = { modelId: previous.modelId, version: previous.version, since: at };
  return revised(deployed, { champion, challenger: challengerBeside(deployed, champion), history: older }, at);
}
