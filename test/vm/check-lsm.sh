# Run by a VM's job.sh: checks that the LSM named in $1 is active, and prints
# `MOAT-VM-LSM active <name>: <detail>` or `MOAT-VM-LSM inactive <name>: <detail>` (exit 1).
name="$1"
bb=/bin/busybox
list="$(cat /sys/kernel/security/lsm 2>/dev/null)"
case ",$list," in
  *",$name,"*) ;;
  *) echo "MOAT-VM-LSM inactive $name: lsm list is \`$list\`"; exit 1 ;;
esac
case "$name" in
  apparmor)
    [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] \
      && [ -e /sys/kernel/security/apparmor/profiles ] \
      || { echo "MOAT-VM-LSM inactive $name: no apparmor securityfs"; exit 1; }
    detail="apparmorfs present, $($bb wc -l < /sys/kernel/security/apparmor/profiles) profiles loaded"
    ;;
  selinux)
    $bb mkdir -p /sys/fs/selinux
    $bb mount -t selinuxfs selinuxfs /sys/fs/selinux || { echo "MOAT-VM-LSM inactive $name: cannot mount selinuxfs"; exit 1; }
    detail="selinuxfs mounted, enforce=$(cat /sys/fs/selinux/enforce) (no policy loaded yet)"
    ;;
  smack)
    $bb mkdir -p /sys/fs/smackfs
    $bb mount -t smackfs smackfs /sys/fs/smackfs || { echo "MOAT-VM-LSM inactive $name: cannot mount smackfs"; exit 1; }
    [ -e /sys/fs/smackfs/load2 ] || { echo "MOAT-VM-LSM inactive $name: no smackfs load2"; exit 1; }
    detail="smackfs mounted, own label \`$(cat /proc/self/attr/current)\`"
    ;;
  *) detail="listed" ;;
esac
echo "MOAT-VM-LSM active $name: $detail"
