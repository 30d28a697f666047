import { describe, expect, it } from 'vitest';
import { FaultPlan, FaultPlanError, parseFaultRules, withFunctionFaults } from '../../../local/faults.js';
import { invokeFunction, LambdaTimeoutError, type LocalFunction } from '../../../local/lambdaRuntime.js';

const draws = (plan: FaultPlan, calls: number, operation = 'PutItem') => Array.from({ length: calls }, () => plan.draw('dynamodb', operation)?.kind ?? '-');

describe('fault plan', () => {
  it('reads the text form: rates, n-th calls, arguments and wildcards', () => {
    expect(parseFaultRules('dynamodb:PutItem=throttle@0.3, s3:GetObject=500@.1,sqs:ingest=delay:20#2+3,lambda:*=crash')).toEqual([
      { service: 'dynamodb', operation: 'PutItem', kind: 'throttle', rate: 0.3 },
      { service: 's3', operation: 'GetObject', kind: '500', rate: 0.1 },
      { service: 'sqs', operation: 'ingest', kind: 'delay', argument: 20, nth: [2, 3] },
      { service: 'lambda', operation: '*', kind: 'crash' },
    ]);
  });

  it.each([
    ['dynamodb:PutItem', /is not <service>/],
    ['redis:Get=throttle', /Unknown fault service "redis"/],
    ['s3:GetObject=throttle', /Unknown s3 fault "throttle"/],
    ['s3:GetObject=500@1.5', /not between 0 and 1/],
    ['lambda:f=crash#0', /counts calls from 1/],
  ])('refuses %s', (text, message) => {
    expect(() => parseFaultRules(text)).toThrow(FaultPlanError);
    expect(() => parseFaultRules(text)).toThrow(message);
  });

  it('fails the same calls again with the same seed, and about the share asked', () => {
    const first = draws(new FaultPlan('dynamodb:PutItem=throttle@0.3', 42), 1000);
    expect(draws(new FaultPlan('dynamodb:PutItem=throttle@0.3', 42), 1000)).toEqual(first);
    expect(draws(new FaultPlan('dynamodb:PutItem=throttle@0.3', 7), 1000)).not.toEqual(first);
    const share = first.filter((k) => k === 'throttle').length / 1000;
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.35);
  });

  it('fails exactly the n-th matching calls, and only the operation named', () => {
    const plan = new FaultPlan('dynamodb:PutItem=conditional#2+4');
    expect(draws(plan, 2, 'GetItem')).toEqual(['-', '-']);
    expect(draws(plan, 5)).toEqual(['-', 'conditional', '-', 'conditional', '-']);
    expect(plan.injected()).toHaveLength(2);
  });

  it('skips rules whose kind the call cannot take, without counting the call', () => {
    const plan = new FaultPlan('dynamodb:*=conditional#1');
    expect(plan.draw('dynamodb', 'GetItem', (kind) => kind !== 'conditional')).toBeUndefined();
    expect(plan.draw('dynamodb', 'PutItem')?.kind).toBe('conditional');
  });

  it('changes while running, and refuses services this cloud cannot fail', () => {
    const plan = new FaultPlan('', 1, ['sqs', 'events', 'lambda']);
    expect(plan.draw('sqs', 'ingest')).toBeUndefined();
    plan.set('sqs:ingest=duplicate');
    expect(plan.draw('sqs', 'ingest')?.kind).toBe('duplicate');
    expect(() => plan.set('s3:GetObject=500')).toThrow(/cannot inject s3 faults/);
    expect(plan.clear().draw('sqs', 'ingest')).toBeUndefined();
  });
});

describe('function faults', () => {
  const counter = () => {
    const done: number[] = [];
    const fn: LocalFunction = { spec: { name: 'validateDataset', memoryMb: 128, timeoutSeconds: 30 }, handler: async () => (done.push(done.length + 1), { ok: true }) };
    return { fn, done };
  };

  it('crashes the n-th invocation after its work is done: the caller gets Runtime.ExitError', async () => {
    const { fn, done } = counter();
    const handler = withFunctionFaults(fn, new FaultPlan('lambda:validateDataset=crash#2'));
    await expect(invokeFunction({ ...fn, handler }, {})).resolves.toEqual({ ok: true });
    const crashed = await invokeFunction({ ...fn, handler }, {}).catch((error: unknown) => error as Error);
    expect(crashed).toMatchObject({ name: 'Runtime.ExitError', message: expect.stringMatching(/Runtime exited with error/) });
    await expect(invokeFunction({ ...fn, handler }, {})).resolves.toEqual({ ok: true });
    expect(done).toEqual([1, 2, 3]);
  });

  it('crashes a batch part way: the handler gets the records it reached, the invocation fails', async () => {
    const seen: unknown[][] = [];
    const fn: LocalFunction = { spec: { name: 'scoreReadings', memoryMb: 128, timeoutSeconds: 30 }, handler: async (event: { Records: unknown[] }) => void seen.push(event.Records) };
    const handler = withFunctionFaults(fn, new FaultPlan('lambda:scoreReadings=crash:0.5#1'));
    await expect(invokeFunction({ ...fn, handler }, { Records: [1, 2, 3, 4, 5] })).rejects.toMatchObject({ name: 'Runtime.ExitError' });
    await invokeFunction({ ...fn, handler }, { Records: [1, 2, 3, 4, 5] });
    expect(seen).toEqual([[1, 2], [1, 2, 3, 4, 5]]);
    expect(() => new FaultPlan('lambda:scoreReadings=crash:2')).toThrow(FaultPlanError);
  });

  it('times an invocation out as the runtime does, and leaves other functions alone', async () => {
    const { fn } = counter();
    const plan = new FaultPlan('lambda:validateDataset=timeout');
    await expect(invokeFunction({ ...fn, handler: withFunctionFaults(fn, plan) }, {})).rejects.toBeInstanceOf(LambdaTimeoutError);
    const other = { ...fn, spec: { ...fn.spec, name: 'profileDataset' } };
    await expect(invokeFunction({ ...other, handler: withFunctionFaults(other, plan) }, {})).resolves.toEqual({ ok: true });
  });
});
