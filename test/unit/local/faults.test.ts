import { describe, expect, it } from 'vitest';
import { FaultPlan, FaultPlanError, parseFaultRules } from '../../../local/faults.js';

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
