#!/bin/busybox sh
# Stage 1 of the moat test VM: /init of the initramfs that scripts/test-vm.mjs builds.
# Makes the new root: the host's / (9p, read-only) under an overlay with a tmpfs upper layer,
# the project tree (9p, writable) at its host path, and the job dir (9p) at /moat-vm; then
# switch_root to stage 2 (test/vm/stage2.sh), run by the host's busybox.
/bin/busybox --install -s /bin
export PATH=/bin

fail() {
  echo "moat-vm: stage 1: $*"
  echo "MOAT-VM-DONE rc=125"
  poweroff -f
}

mount -t proc proc /proc || fail 'mount `/proc`'
mount -t sysfs sysfs /sys || fail 'mount `/sys`'
mount -t devtmpfs devtmpfs /dev || fail 'mount `/dev`'

project=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    moat.project=*) project="${arg#moat.project=}" ;;
  esac
done
[ -n "$project" ] || fail 'no `moat.project=` on the kernel command line'

# msize: bigger 9p messages make node's many small reads much cheaper under TCG.
# cache=loose on the read-only host root: the host's / does not change under a test run.
p9='trans=virtio,version=9p2000.L,msize=262144'
mkdir -p /mnt/lower /mnt/rw /newroot
mount -t 9p -o "$p9,ro,cache=loose" hostroot /mnt/lower || fail 'mount 9p `hostroot`'
mount -t tmpfs -o mode=0755 tmpfs /mnt/rw || fail 'mount tmpfs upper layer'
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /newroot \
  || fail 'mount overlay root'
mkdir -p "/newroot$project" /newroot/moat-vm
mount -t 9p -o "$p9,cache=loose" project "/newroot$project" || fail 'mount 9p `project`'
mount -t 9p -o "$p9" job /newroot/moat-vm || fail 'mount 9p `job`'

mount --move /dev /newroot/dev || fail 'move `/dev`'
umount /proc /sys
exec switch_root /newroot /bin/busybox sh "$project/test/vm/stage2.sh" "$project"
