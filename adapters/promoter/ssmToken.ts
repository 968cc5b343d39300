// The promote token from its SSM SecureString, read (and decrypted through Parameter Store) at each
// use, so a rotated token is picked up without redeploying the controller.
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { NotFoundError } from "../../core/errors";

export function ssmSecureString(client: SSMClient, name: string): () => Promise<string> {
  return async () => {
    const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    const value = out.Parameter?.Value;
    if (!value) throw new NotFoundError(`SSM parameter ${name} has no value`);
    return value;
  };
}
