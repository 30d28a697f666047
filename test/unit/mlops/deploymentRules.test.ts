import { describe, expect, it } from 'vitest';
import { deployRequest, MAX_DEPLOYMENT_HISTORY, type Deployment } from '../../../shared/mlops/deployment.js';
import { clearChallenger, promote, rollback, setChallenger } from '../../../shared/mlops/deploymentRules.js';
import { ConflictError, NotFoundError, ValidationError } from '../../../shared/platform/errors.js';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
const v = (modelId: string, version = 1) => ({ modelId, version });

describe('deployment rules', () => {
  it('the first promotion creates revision 1; each later one moves the champion to the head of the history', () => {
    const first = promote(undefined, 'pump-1', v('a'), at(0));
    const second = promote(first, 'pump-1', v('b'), at(1));
    const third = promote(second, 'pump-1', v('a', 2), at(2));

    expect(first).toEqual({ group: 'pump-1', champion: { modelId: 'a', version: 1, since: at(0).toISOString() }, history: [], revision: 1, updatedAt: at(0).toISOString() });
    expect(third.champion).toMatchObject(v('a', 2));
    expect(third.history).toEqual([
      { modelId: 'b', version: 1, since: at(1).toISOString(), until: at(2).toISOString() },
      { modelId: 'a', version: 1, since: at(0).toISOString(), until: at(1).toISOString() },
    ]);
    expect(third.revision).toBe(3);
    expect(third.updatedAt).toBe(at(2).toISOString());
  });

  it('promoting the champion again changes nothing (a retry writes no new revision)', () => {
    const first = promote(undefined, 'pump-1', v('a'), at(0));
    expect(promote(first, 'pump-1', v('a'), at(5))).toBe(first);
  });

  it('keeps at most MAX_DEPLOYMENT_HISTORY past champions, dropping the oldest', () => {
    let d: Deployment | undefined;
    for (let i = 1; i <= MAX_DEPLOYMENT_HISTORY + 5; i++) d = promote(d, 'g', v('m', i), at(i));
    expect(d!.history).toHaveLength(MAX_DEPLOYMENT_HISTORY);
    expect(d!.history[0]).toMatchObject(v('m', MAX_DEPLOYMENT_HISTORY + 4));
    expect(d!.history.at(-1)).toMatchObject(v('m', 5));
  });

  it('rolls back to the previous champion, dropping the one rolled back from; 409 when there is none', () => {
    const d = promote(promote(promote(undefined, 'g', v('a'), at(0)), 'g', v('b'), at(1)), 'g', v('c'), at(2));
    const once = rollback(d, 'g', at(3));
    const twice = rollback(once, 'g', at(4));

    expect(once.champion).toEqual({ ...v('b'), since: at(3).toISOString() });
    expect(once.history.map((h) => h.modelId)).toEqual(['a']);
    expect(twice.champion).toMatchObject(v('a'));
    expect(twice.revision).toBe(5);
    expect(() => rollback(twice, 'g', at(5))).toThrow(ConflictError);
    expect(() => rollback(undefined, 'g', at(5))).toThrow(NotFoundError);
  });

  it('sets a challenger with a share in (0, 0.5], never the champion, and only on a deployed group', () => {
    const d = promote(undefined, 'g', v('a'), at(0));
    const challenged = setChallenger(d, 'g', v('b'), 0.2, at(1));

    expect(challenged.challenger).toEqual({ ...v('b'), trafficShare: 0.2, since: at(1).toISOString() });
    expect(challenged.revision).toBe(2);
    expect(setChallenger(d, 'g', v('b'), 0.5, at(1)).challenger?.trafficShare).toBe(0.5);
    for (const share of [0, -0.1, 0.51, 1, Number.NaN]) expect(() => setChallenger(d, 'g', v('b'), share, at(1)), String(share)).toThrow(ValidationError);
    expect(() => setChallenger(d, 'g', v('a'), 0.2, at(1))).toThrow(ConflictError);
    expect(() => setChallenger(undefined, 'g', v('b'), 0.2, at(1))).toThrow(NotFoundError);
  });

  it('a new share keeps the challenger\'s since, the same share changes nothing, another model replaces it', () => {
    const d = setChallenger(promote(undefined, 'g', v('a'), at(0)), 'g', v('b'), 0.2, at(1));
    expect(setChallenger(d, 'g', v('b'), 0.2, at(2))).toBe(d);
    expect(setChallenger(d, 'g', v('b'), 0.4, at(2)).challenger).toEqual({ ...v('b'), trafficShare: 0.4, since: at(1).toISOString() });
    expect(setChallenger(d, 'g', v('c'), 0.1, at(2)).challenger).toEqual({ ...v('c'), trafficShare: 0.1, since: at(2).toISOString() });
  });

  it('promoting the challenger ends its challenge; promoting another model keeps it; clearing removes it', () => {
    const d = setChallenger(promote(undefined, 'g', v('a'), at(0)), 'g', v('b'), 0.3, at(1));

    const graduated = promote(d, 'g', v('b'), at(2));
    expect(graduated.challenger).toBeUndefined();
    expect('challenger' in graduated).toBe(false);
    expect(promote(d, 'g', v('c'), at(2)).challenger).toMatchObject(v('b'));

    const cleared = clearChallenger(d, 'g', at(3));
    expect(cleared.challenger).toBeUndefined();
    expect(cleared.revision).toBe(3);
    expect(clearChallenger(cleared, 'g', at(4))).toBe(cleared);
    // Rolling back to the challenger's version makes it champion, so it stops challenging.
    const back = rollback(setChallenger(promote(d, 'g', v('c'), at(4)), 'g', v('a'), 0.1, at(5)), 'g', at(6));
    expect(back.champion).toMatchObject(v('a'));
    expect(back.challenger).toBeUndefined();
  });

  it('the request names what each action needs and refuses the rest', () => {
    const ok = (body: unknown) => deployRequest.safeParse(body).success;
    expect(ok({ group: 'g', action: 'promote', modelId: 'a' })).toBe(true);
    expect(ok({ group: 'g', action: 'promote', modelId: 'a', version: 2, revision: 4 })).toBe(true);
    expect(ok({ group: 'g', action: 'promote' })).toBe(false);
    expect(ok({ group: 'g', action: 'promote', modelId: 'a', trafficShare: 0.1 })).toBe(false);
    expect(ok({ group: 'g', action: 'set-challenger', modelId: 'a', trafficShare: 0.5 })).toBe(true);
    expect(ok({ group: 'g', action: 'set-challenger', modelId: 'a' })).toBe(false);
    expect(ok({ group: 'g', action: 'set-challenger', modelId: 'a', trafficShare: 0.6 })).toBe(false);
    expect(ok({ group: 'g', action: 'set-challenger', modelId: 'a', trafficShare: 0 })).toBe(false);
    expect(ok({ group: 'g', action: 'rollback' })).toBe(true);
    expect(ok({ group: 'g', action: 'rollback', modelId: 'a' })).toBe(false);
    expect(ok({ group: 'g', action: 'clear-challenger' })).toBe(true);
    expect(ok({ group: 'g', action: 'retire' })).toBe(false);
    expect(ok({ group: '../x', action: 'rollback' })).toBe(false);
  });
});
