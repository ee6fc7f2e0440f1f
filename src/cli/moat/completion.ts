// `moat completion bash|zsh`: a completion script made from the command table, so it never
// falls behind the flags. Sandbox names come from `moat list -q` (with the --data-dir given on
// the line), units from the host's unit dirs, `oci:` from directories. zsh runs the same
// function through bashcompinit.
import type { Command } from './commands.js';
import type { FlagSpec } from '../args.js';

/** Flag values worth offering. */
const VALUES: Record<string, string> = {
  network: 'none host',
  userns: 'private host',
  template: 'host busybox debian oci:',
  init: 'systemd',
};

function flagWords(flags: Record<string, FlagSpec>): string {
  const w: string[] = ['--help'];
  for (const [name, f] of Object.entries(flags)) {
    w.push(`--${name}`);
    if (f.alias) w.push(`-${f.alias}`);
  }
  return w.join(' ');
}

/** Commands whose first positional is a sandbox name (both names for clone). */
function takesName(usage: string): boolean {
  return /^\w+ (NAME|SRC)\b/.test(usage);
}

/** The bash completion script. */
export function bashCompletion(commands: Record<string, Command>, globals: Record<string, FlagSpec>): string {
  const names = Object.keys(commands).sort();
  const cases = names.map((n) => {
    const c = commands[n]!;
    const valued = Object.entries(c.flags).filter(([, f]) => f.type !== 'bool').flatMap(([k, f]) => [`--${k}`, ...(f.alias ? [`-${f.alias}`] : [])]);
    return `    ${n}) flags="${flagWords(c.flags)}"; valued=" ${valued.join(' ')} "; names=${takesName(c.usage) ? 1 : 0} ;;`;
  }).join('\n');
  const valueCases = Object.entries(VALUES).map(([k, v]) => `      --${k}) COMPREPLY=($(compgen -W "${v}" -- "$cur")); [[ $cur == oci:* ]] && _moat_oci; return ;;`).join('\n');
  return `# bash completion for moat (made by \`moat completion bash\`; source it, or put it in
# /etc/bash_completion.d/moat)
_moat_oci() {
  local dir=\${cur#oci:}
  COMPREPLY=($(compgen -d -- "$dir" | sed 's|^|oci:|'))
  compopt -o nospace 2>/dev/null
}
_moat() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local i cmd="" cmdi=0 datadir=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      --data-dir) datadir=\${COMP_WORDS[i+1]}; ((i++)) ;;
      --data-dir=*) datadir=\${COMP_WORDS[i]#--data-dir=} ;;
      -*) ;;
      *) cmd=\${COMP_WORDS[i]}; cmdi=$i; break ;;
    esac
  done
  case $cmd in ls|ps) cmd=list ;; rm) cmd=delete ;; esac
  if [[ -z $cmd ]]; then
    if [[ $prev == --data-dir ]]; then COMPREPLY=($(compgen -d -- "$cur")); return; fi
    COMPREPLY=($(compgen -W "${names.join(' ')} help ${flagWords(globals)}" -- "$cur"))
    return
  fi
  local flags="" valued=" " names=0
  case $cmd in
${cases}
    help) COMPREPLY=($(compgen -W "${names.join(' ')}" -- "$cur")); return ;;
    *) return ;;
  esac
  if [[ $valued == *" $prev "* ]]; then
    case $prev in
${valueCases}
      --unit)
        local d u=""
        for d in \${MOAT_UNIT_PATH//:/ } /etc/systemd/system /run/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
          [[ -d $d ]] && u+=" $(cd "$d" && compgen -G '*.service' | grep -v '@\\.service$' | tr '\\n' ' ')"
        done
        COMPREPLY=($(compgen -W "$u" -- "$cur")); return ;;
      --volume|-v) COMPREPLY=($(compgen -f -- "$cur")); compopt -o nospace 2>/dev/null; return ;;
      *) return ;;
    esac
  fi
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur")); return; fi
  # the positionals before this word (flags with values skipped)
  local pos=0
  for ((i = cmdi + 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      --) return ;;
      -*) [[ $valued == *" \${COMP_WORDS[i]} "* ]] && ((i++)) ;;
      *) ((pos++)) ;;
    esac
  done
  case $cmd in
    completion) ((pos == 0)) && COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return ;;
    generate) ((pos == 0)) && COMPREPLY=($(compgen -W "systemd" -- "$cur")); ((pos == 1)) || return ;;
    clone) ((pos == 0)) || return ;;
    *) ((names == 1 && pos == 0)) || return ;;
  esac
  COMPREPLY=($(compgen -W "$(moat \${datadir:+--data-dir "$datadir"} list -q 2>/dev/null)" -- "$cur"))
}
complete -F _moat moat
`;
}

/** The zsh completion script: the bash function through bashcompinit. */
export function zshCompletion(commands: Record<string, Command>, globals: Record<string, FlagSpec>): string {
  return `#compdef moat
# zsh completion for moat (made by \`moat completion zsh\`): the bash completion, through
# zsh's bashcompinit. Source it from ~/.zshrc.
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(commands, globals)}`;
}
