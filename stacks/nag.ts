import { Validations, type Stack } from 'aws-cdk-lib';

/** Lambda functions that aws-cdk-lib adds on its own, by the id prefix of their singleton construct. */
const providers = [
  { idPrefix: 'BucketNotificationsHandler', what: 'aws-cdk-lib S3 notifications handler (turns on EventBridge delivery)' },
  { idPrefix: 'AWS679f53fac002430cb0da5b7982bd2287', what: 'aws-cdk-lib AwsCustomResource provider (seeds the demo client tenant)' },
];

/**
 * Acknowledges cdk-nag findings on the providers aws-cdk-lib creates for its own custom resources:
 * their code and roles are not ours to change.
 */
export function acknowledgeCustomResourceProviders(stack: Stack): void {
  for (const child of stack.node.children) {
    const provider = providers.find((p) => child.node.id.startsWith(p.idPrefix));
    if (!provider) continue;
    Validations.of(child).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: `The ${provider.what} runs only at deploy time with the role aws-cdk-lib gives it.`,
    });
  }
}
