// The syscall lists of moat's default profile (see default-profile.ts for how they are used).
// Which syscalls an ordinary program needs follows the container default profiles
// (Docker/Podman); the lists are written here, grouped by purpose.

/** Allowed for every container: what programs need and is confined by namespaces. */
export const DEFAULT_ALLOWED: readonly string[] = [
  // files and directories
  'access', 'chdir', 'chmod', 'chown', 'chown32', 'close', 'close_range', 'copy_file_range', 'creat',
  'dup', 'dup2', 'dup3', 'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate', 'fchdir',
  'fchmod', 'fchmodat', 'fchmodat2', 'fchown', 'fchown32', 'fchownat', 'fcntl', 'fcntl64', 'fdatasync',
  'flock', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64', 'fsync', 'ftruncate', 'ftruncate64',
  'futimesat', 'getcwd', 'getdents', 'getdents64', 'lchown', 'lchown32', 'link', 'linkat', '_llseek',
  'lseek', 'lstat', 'lstat64', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'name_to_handle_at', 'newfstatat',
  'oldfstat', 'oldlstat', 'oldstat', 'open', 'openat', 'openat2', 'pread64', 'preadv', 'preadv2',
  'pwrite64', 'pwritev', 'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv', 'rename',
  'renameat', 'renameat2', 'rmdir', 'sendfile', 'sendfile64', 'splice', 'stat', 'stat64', 'statfs',
  'statfs64', 'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range', 'syncfs', 'tee', 'truncate',
  'truncate64', 'umask', 'unlink', 'unlinkat', 'utime', 'utimensat', 'utimensat_time64', 'utimes',
  'vmsplice', 'write', 'writev',
  // pipes
  'pipe', 'pipe2',
  // extended attributes
  'fgetxattr', 'flistxattr', 'fremovexattr', 'fsetxattr', 'getxattr', 'lgetxattr', 'listxattr',
  'llistxattr', 'lremovexattr', 'lsetxattr', 'removexattr', 'setxattr',
  // waiting for events
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2',
  'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2', 'fanotify_mark', 'inotify_add_watch',
  'inotify_init', 'inotify_init1', 'inotify_rm_watch', '_newselect', 'pause', 'poll', 'ppoll',
  'ppoll_time64', 'pselect6', 'pselect6_time64', 'select', 'signalfd', 'signalfd4',
  // asynchronous I/O (io_uring is not here: see DEFAULT_DENIED)
  'io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64', 'io_setup',
  'io_submit', 'ioctl', 'ioprio_get', 'ioprio_set',
  // memory
  'brk', 'madvise', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore', 'mlock', 'mlock2',
  'mlockall', 'mmap', 'mmap2', 'mprotect', 'mremap', 'msync', 'munlock', 'munlockall', 'munmap',
  'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'remap_file_pages',
  // processes and threads (clone, clone3, unshare: see default-profile.ts)
  'execve', 'execveat', 'exit', 'exit_group', 'fork', 'get_robust_list', 'getcpu', 'getpgid', 'getpgrp',
  'getpid', 'getppid', 'getpriority', 'getrlimit', 'getrusage', 'getsid', 'gettid', 'pidfd_open',
  'pidfd_send_signal', 'prctl', 'prlimit64', 'process_mrelease', 'restart_syscall', 'rseq',
  'set_robust_list', 'set_tid_address', 'setpgid', 'setpriority', 'setrlimit', 'setsid', 'ugetrlimit',
  'vfork', 'wait4', 'waitid', 'waitpid',
  // scheduling (policy changes of other processes need CAP_SYS_NICE in the kernel)
  'sched_get_priority_max', 'sched_get_priority_min', 'sched_getaffinity', 'sched_getattr',
  'sched_getparam', 'sched_getscheduler', 'sched_rr_get_interval', 'sched_rr_get_interval_time64',
  'sched_setaffinity', 'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield',
  // credentials (the kernel checks CAP_SETUID/CAP_SETGID; capget/capset only shrink or read)
  'capget', 'capset', 'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getgroups',
  'getgroups32', 'getresgid', 'getresgid32', 'getresuid', 'getresuid32', 'getuid', 'getuid32',
  'setfsgid', 'setfsgid32', 'setfsuid', 'setfsuid32', 'setgid', 'setgid32', 'setgroups', 'setgroups32',
  'setregid', 'setregid32', 'setresgid', 'setresgid32', 'setresuid', 'setresuid32', 'setreuid',
  'setreuid32', 'setuid', 'setuid32',
  // signals
  'kill', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn',
  'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'sigaltstack',
  'signal', 'sigaction', 'sigpending', 'sigprocmask', 'sigreturn', 'sigsuspend', 'tgkill', 'tkill',
  // time and timers (reading; adjtimex/clock_adjtime only read without CAP_SYS_TIME)
  'adjtimex', 'alarm', 'clock_adjtime', 'clock_adjtime64', 'clock_getres', 'clock_getres_time64',
  'clock_gettime', 'clock_gettime64', 'clock_nanosleep', 'clock_nanosleep_time64', 'getitimer',
  'gettimeofday', 'nanosleep', 'setitimer', 'time', 'timer_create', 'timer_delete', 'timer_getoverrun',
  'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64', 'timerfd_create',
  'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64', 'times',
  // futexes
  'futex', 'futex_requeue', 'futex_time64', 'futex_wait', 'futex_waitv', 'futex_wake',
  // sockets (network namespaces confine them); socketcall is i386's multiplexer
  'accept', 'accept4', 'bind', 'connect', 'getpeername', 'getsockname', 'getsockopt', 'listen', 'recv',
  'recvfrom', 'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'send', 'sendmmsg', 'sendmsg', 'sendto',
  'setsockopt', 'shutdown', 'socket', 'socketcall', 'socketpair',
  // System V and POSIX IPC (IPC namespaces confine them); ipc is i386's multiplexer
  'ipc', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64',
  'mq_timedsend', 'mq_timedsend_time64', 'mq_unlink', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'semctl',
  'semget', 'semop', 'semtimedop', 'semtimedop_time64', 'shmat', 'shmctl', 'shmdt', 'shmget',
  // system information and self-confinement
  'getrandom', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self', 'seccomp',
  'sysinfo', 'uname',
  // architecture specific: x86 TLS and LDT, arm cache and TLS calls
  'arch_prctl', 'get_thread_area', 'modify_ldt', 'set_thread_area', 'arm_fadvise64_64',
  'arm_sync_file_range', 'breakpoint', 'cacheflush', 'set_tls',
];

/**
 * Unlocked by a capability (any listed one unlocks the entry): these syscalls are what the
 * capability is for. Without it they get EPERM, for the reason in `why`.
 */
export const DEFAULT_BY_CAPABILITY: readonly { caps: string[]; names: string[]; why: string }[] = [
  {
    caps: ['CAP_SYS_ADMIN'],
    names: ['fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie', 'mount', 'mount_setattr', 'move_mount', 'open_tree', 'quotactl', 'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'umount', 'umount2'],
    why: 'mounts change what the container sees and can reach; setns joins other namespaces; quotas and fanotify watch or limit whole filesystems',
  },
  { caps: ['CAP_SYS_BOOT'], names: ['reboot'], why: 'reboots the host (or the pid namespace)' },
  { caps: ['CAP_SYS_CHROOT'], names: ['chroot'], why: 'chroot without a mount namespace of its own is an old escape route' },
  { caps: ['CAP_SYS_MODULE'], names: ['delete_module', 'finit_module', 'init_module'], why: 'loads code into the host kernel' },
  { caps: ['CAP_SYS_PACCT'], names: ['acct'], why: 'host-wide process accounting' },
  {
    caps: ['CAP_SYS_PTRACE'],
    names: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
    why: 'read or write another process\'s memory and files; on kernels before 4.8 ptrace could bypass seccomp',
  },
  { caps: ['CAP_SYS_RAWIO'], names: ['ioperm', 'iopl'], why: 'raw port I/O' },
  { caps: ['CAP_SYS_TIME'], names: ['clock_settime', 'clock_settime64', 'settimeofday', 'stime'], why: 'clocks are not namespaced: this sets the host\'s time' },
  { caps: ['CAP_SYS_TTY_CONFIG'], names: ['vhangup'], why: 'hangs up the terminal' },
  { caps: ['CAP_SYS_NICE'], names: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'], why: 'NUMA memory policy affects the host\'s memory placement' },
  { caps: ['CAP_SYSLOG', 'CAP_SYS_ADMIN'], names: ['syslog'], why: 'the kernel log leaks kernel addresses' },
  { caps: ['CAP_BPF', 'CAP_SYS_ADMIN'], names: ['bpf'], why: 'eBPF is a large kernel attack surface' },
  { caps: ['CAP_PERFMON', 'CAP_SYS_ADMIN'], names: ['perf_event_open'], why: 'observes other processes; a large attack surface' },
  { caps: ['CAP_DAC_READ_SEARCH'], names: ['open_by_handle_at'], why: 'opened host files from containers in 2014 ("shocker")' },
];

/**
 * Never allowed by the default profile, whatever the capabilities: they get the default
 * action (EPERM). Listed so that every deny has its reason written down; a test checks that
 * none of them is allowed. (Capability-gated syscalls are in DEFAULT_BY_CAPABILITY with
 * their reasons; personality, clone, clone3 and unshare are in default-profile.ts.)
 */
export const DEFAULT_DENIED: Readonly<Record<string, string>> = {
  add_key: 'the kernel keyring is not namespaced: keys of other containers and the host',
  keyctl: 'the kernel keyring is not namespaced',
  request_key: 'the kernel keyring is not namespaced',
  kexec_load: 'replaces the host kernel',
  kexec_file_load: 'replaces the host kernel',
  userfaultfd: 'stalls kernel page faults at will: a classic primitive for kernel race exploits',
  io_uring_setup: 'io_uring bypasses seccomp for the operations it runs and has had many kernel CVEs',
  io_uring_enter: 'see io_uring_setup',
  io_uring_register: 'see io_uring_setup',
  pivot_root: 'the runtime sets up the root before seccomp applies; containers have no use for it',
  swapon: 'host swap configuration',
  swapoff: 'host swap configuration',
  _sysctl: 'obsolete; sysctls are written through /proc/sys',
  uselib: 'obsolete a.out loader',
  nfsservctl: 'removed from the kernel',
  create_module: 'removed from the kernel',
  get_kernel_syms: 'removed from the kernel',
  query_module: 'removed from the kernel',
  sysfs: 'obsolete',
  ustat: 'obsolete',
  vm86: 'i386 virtual 8086 mode: large, rarely used kernel surface',
  vm86old: 'see vm86',
};
