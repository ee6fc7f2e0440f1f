// update and events (issue 4 fills these in).
import { RuntimeError } from '../../../runtime/errors.js';
import type { CommandContext } from '../commands.js';

export async function update(ctx: CommandContext): Promise<number> {
  void ctx;
  throw new RuntimeError('ERR_UNSUPPORTED', 'update is not supported yet');
}

export async function events(ctx: CommandContext): Promise<number> {
  void ctx;
  throw new RuntimeError('ERR_UNSUPPORTED', 'events is not supported yet');
}
