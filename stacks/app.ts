import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ApiStack } from './apiStack.js';
import { configFrom, type TelltaleConfig } from './config.js';
import { DataStack } from './dataStack.js';

/** Builds Telltale's stacks into an app; the CLI entry below and the stack tests share it. */
export function createTelltale(app: App, config: TelltaleConfig = configFrom(app.node)) {
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const prefix = `Telltale-${config.stage}`;
  const data = new DataStack(app, `${prefix}-Data`, { env, config, description: `Telltale ${config.stage}: tables, buckets, queues, event bus, user pool` });
  const api = new ApiStack(app, `${prefix}-Api`, { env, config, description: `Telltale ${config.stage}: functions and the HTTP API` });
  // No references cross the stacks (the API stack reads the data stack's SSM parameters), so the order is declared.
  api.addStackDependency(data, 'reads the SSM parameters the data stack writes');
  Tags.of(app).add('project', 'telltale');
  Tags.of(app).add('stage', config.stage);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { config, data, api };
}

// Run by the CDK CLI (cdk.json: `npx tsx stacks/app.ts`), not when a test imports this module.
if (import.meta.url === `file://${process.argv[1]}`) {
  const app = new App();
  createTelltale(app);
  app.synth();
}
