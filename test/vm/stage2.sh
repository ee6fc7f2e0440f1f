# Stage 2 of the moat test VM, pid 1 in the new root (host's / under an overlay), run by the
# host's busybox: mounts what a systemd host has, runs /moat-vm/job.sh (written per VM by
# scripts/test-vm.mjs), prints `MOAT-VM-DONE rc=N` and powers off.
# $1: the project dir. /moat-vm/job.env sets MOAT_VM_NAME, MOAT_VM_CGROUP (v2|none) and
# MOAT_VM_LSM (an LSM that must be active, or empty).
project="$1"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
bb=/bin/busybox

done_rc() {
  echo "MOAT-VM-DONE rc=$1"
  echo "$1" > /moat-vm/rc
  $bb sync
  $bb poweroff -f
}

$bb mount -t proc -o nosuid,nodev,noexec proc /proc || done_rc 125
$bb mount -t sysfs -o nosuid,nodev,noexec sysfs /sys || done_rc 125
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts -o nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
[ -e /dev/ptmx ] || $bb ln -s pts/ptmx /dev/ptmx
$bb mount -t tmpfs -o nosuid,nodev shm /dev/shm
$bb mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
$bb mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
$bb mount -t securityfs -o nosuid,nodev,noexec securityfs /sys/kernel/security
# systemd makes every mount shared; a runtime must cope with that, so the VM does the same
$bb mount --make-rshared /
$bb hostname moat-vm
$bb ip link set lo up

. /moat-vm/job.env

if [ "$MOAT_VM_CGROUP" = v2 ]; then
  # as systemd mounts it on a pure cgroup v2 host
  $bb mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup \
    || $bb mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 /sys/fs/cgroup || done_rc 125
  echo "moat-vm: cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
  # hand every controller down, as systemd does for its slices
  for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || echo "moat-vm: cannot enable \`$c\`"
  done
fi
echo "moat-vm: lsm: $(cat /sys/kernel/security/lsm)"
echo "moat-vm: kernel $($bb uname -r), $($bb nproc) cpus, $($bb free -m | $bb awk '/Mem:/ {print $2}') MiB"

cd "$project" || done_rc 125
$bb sh /moat-vm/job.sh
done_rc $?
