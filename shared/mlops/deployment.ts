import { z } from 'zod';
import { resourceId } from '../platform/ids.js';

export const deploymentActions = ['promote', 'set-challenger', 'clear-challenger', 'rollback'] as const;
export type DeploymentAction = (typeof deploymentActions)[number];

/** Champions replaced by a promotion are kept for rollback, newest first, up to this many. */
export const MAX_DEPLOYMENT_HISTORY = 10;
/** A challenger never takes more than half the traffic: the champion stays the majority answer. */
export const MAX_CHALLENGER_SHARE = 0.5;

const version = z.number().int().min(1);
const trafficShare = z.number().gt(0).max(MAX_CHALLENGER_SHARE).describe(`Share of the group's predict requests routed to the challenger, 0 < share <= ${MAX_CHALLENGER_SHARE}`);
const since = z.iso.datetime().describe('When this model took the role');

export const champion = z.object({ modelId: z.string(), version, since });
export const challenger = champion.extend({ trafficShare });
export const pastChampion = champion.extend({ until: z.iso.datetime().describe('When it was replaced') });

export const deployment = z.object({
  group: z.string().describe('The sensor group (asset) the deployment serves'),
  champion: champion.describe('The model version that answers predict requests for the group'),
  challenger: challenger.optional().describe('A version that answers a share of the requests, for comparison'),
  history: z.array(pastChampion).describe(`Previous champions, newest first (at most ${MAX_DEPLOYMENT_HISTORY}); rollback restores the first`),
  revision: z.number().int().min(1).describe('Incremented by every change; a change made from a stale revision is refused with 409'),
  updatedAt: z.iso.datetime(),
});
export type Deployment = z.infer<typeof deployment>;
export type ModelRef = Pick<Deployment['champion'], 'modelId' | 'version'>;

const target = {
  modelId: resourceId.describe('A READY model of this tenant'),
  version: version.optional().describe('Default: the model\'s current version, pinned in the deployment'),
};
const common = {
  group: resourceId.describe('The sensor group (asset) to deploy for'),
  revision: z.number().int().min(1).optional().describe('Apply only to this revision of the deployment (409 otherwise), so a retried change cannot apply twice'),
};

/** One body per action, so each action names exactly what it needs and refuses the rest. */
export const deployRequest = z.discriminatedUnion('action', [
  z.strictObject({ ...common, action: z.literal('promote').describe('Make the model version the champion; the previous champion goes to history'), ...target }),
  z.strictObject({ ...common, action: z.literal('set-challenger').describe('Route a share of the traffic to the model version'), ...target, trafficShare }),
  z.strictObject({ ...common, action: z.literal('clear-challenger').describe('Send all traffic to the champion again') }),
  z.strictObject({ ...common, action: z.literal('rollback').describe('Make the previous champion the champion again') }),
]);
export type DeployRequest = z.infer<typeof deployRequest>;

export const deploymentRoles = ['champion', 'challenger'] as const;
export type DeploymentRole = (typeof deploymentRoles)[number];
