# A one-node Slurm cluster on this machine for scripts that prove a Slurm recipe (sourced by shard-recipe.sh).
# slurm_start DIR writes DIR/slurm.conf, starts munged if it is not running, then slurmctld and slurmd on that
# configuration (state and logs in DIR), exports SLURM_CONF so sbatch finds it, and stops the daemons it started
# (munged too, if it started it) when the calling script exits. Needs root and Debian's slurm-wlm and munge.
slurm_started=""

slurm_stop() {
    for pid in $slurm_started; do kill "$pid" 2>/dev/null || true; done
}

slurm_start() {
    dir=$1
    mkdir -p "$dir/state" "$dir/spool"
    node=$(hostname -s)
    cpus=$(nproc)
    cat >"$dir/slurm.conf" <<CONF
ClusterName=moeslim
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
NodeName=$node CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
    export SLURM_CONF="$dir/slurm.conf"
    trap slurm_stop EXIT INT TERM
    if ! pgrep -x munged >/dev/null; then
        mkdir -p /run/munge && chown munge:munge /run/munge
        runuser -u munge -- /usr/sbin/munged
        slurm_started="$(cat /run/munge/munged.pid)"
    fi
    slurmctld -f "$SLURM_CONF"
    slurmd -f "$SLURM_CONF"
    for _ in $(seq 50); do
        [ -s "$dir/slurmctld.pid" ] && [ -s "$dir/slurmd.pid" ] && break
        sleep 0.2
    done
    slurm_started="$(cat "$dir/slurmd.pid") $(cat "$dir/slurmctld.pid") $slurm_started"
    for _ in $(seq 100); do
        sinfo -h -o %t 2>/dev/null | grep -q '^idle' && return 0
        sleep 0.3
    done
    echo "Slurm did not bring node $node up; see $dir/slurmctld.log and $dir/slurmd.log" >&2
    return 1
}
