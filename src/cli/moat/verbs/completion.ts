// moat completion bash|zsh: a shell completion script.
import { UsageError } from '../../args.js';
import { COMMANDS, type CommandContext } from '../commands.js';
import { bashCompletion, zshCompletion } from '../completion.js';
import { GLOBAL } from '../main.js';
import { out } from '../output.js';

export async function completion(ctx: CommandContext): Promise<number> {
  const [shell, ...rest] = ctx.args;
  if (rest.length || (shell !== 'bash' && shell !== 'zsh')) throw new UsageError('usage: moat completion bash|zsh');
  out(shell === 'bash' ? bashCompletion(COMMANDS, GLOBAL) : zshCompletion(COMMANDS, GLOBAL));
  return 0;
}
