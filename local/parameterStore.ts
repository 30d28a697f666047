import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AwsProtocolError } from './messagingEndpoint.js';


/**
 * SSM Parameter Store in process (PutParameter, GetParameter, DeleteParameter through the messaging
 * endpoint), for the alert rules' webhook secrets. Kept in a file under the data folder when the
 * cloud keeps its data, so rules and their secrets survive a restart together.
 */
export class LocalParameterStore {
  private readonly values: Map<string, { value: string; type: string; version: number }>;

  constructor(private readonly file?: string) {
    this.values = new Map(file ? this.read(file) : []);
  }

  private read(file: string): [string, { value: string; type: string; version: number }][] {
    try {
      return Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, { value: string; type: string; version: number }>);
    } catch {
      return [];
    }
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileSync(this.file, JSON.stringify(Object.fromEntries(this.values)), { mode: 0o600 });
  }

  /** The stored values (the outbox checks webhook signatures against them). */
  secrets(): string[] {
    return [...this.values.values()].map((v) => v.value);
  }

  /** The SSM JSON operations the local cloud implements, by X-Amz-Target. */
  operations(): Record<string, (input: Record<string, unknown>) => unknown> {
    const nameOf = (input: Record<string, unknown>) => {
      const name = String(input.Name ?? '');
      if (!/^\/?[\w./-]{1,1011}$/.test(name)) throw new AwsProtocolError('ValidationException', `Invalid parameter name: ${name}`);
      return name;
    };
    return {
      'AmazonSSM.PutParameter': (input) => {
        const name = nameOf(input);
        const existing = this.values.get(name);
        if (existing && input.Overwrite !== true) throw new AwsProtocolError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
        const version = (existing?.version ?? 0) + 1;
        this.values.set(name, { value: String(input.Value ?? ''), type: String(input.Type ?? 'String'), version });
        this.save();
        return { Version: version, Tier: 'Standard' };
      },
      'AmazonSSM.GetParameter': (input) => {
        const name = nameOf(input);
        const found = this.values.get(name);
        if (!found) throw new AwsProtocolError('ParameterNotFound', `Parameter ${name} not found.`);
        // Without decryption SSM answers a SecureString's ciphertext: never the plain value.
        const value = found.type === 'SecureString' && input.WithDecryption !== true ? Buffer.from(found.value).toString('base64') : found.value;
        return { Parameter: { Name: name, Type: found.type, Value: value, Version: found.version } };
      },
      'AmazonSSM.DeleteParameter': (input) => {
        const name = nameOf(input);
        if (!this.values.delete(name)) throw new AwsProtocolError('ParameterNotFound', `Parameter ${name} not found.`);
        this.save();
        return {};
      },
    };
  }
}
