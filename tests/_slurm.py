"""A real one-node Slurm cluster on this machine, for the pipeline's HPC tests.

Slurm 22.05 from Debian (``make hpc-tools`` installs ``slurm-wlm`` and ``munge``): ``munged``,
``slurmctld`` and ``slurmd`` run as root with their own key, sockets, ports, state and logs in one
folder (no systemd, nothing under /etc). The node offers this machine's CPUs and most of its memory,
and a ``gpu`` gres per CPU (up to 4; /dev/null and other harmless devices as their device files:
Slurm schedules them and sets CUDA_VISIBLE_DEVICES, nothing uses them) so that GPU jobs (``--gres=gpu:1``) can start; two partitions: ``cpu`` (the default) and ``gpu``. Every finished job is
written to the job completion log (``jobcomp/filetxt``), which stands in for ``sacct`` (no slurmdbd).

    with LocalSlurm(folder) as slurm:
        subprocess.run(["sbatch", ...], env=slurm.env())
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

STAND_IN_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/urandom")
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo")


def missing_tools() -> list[str]:
    return [d for d in DAEMONS if shutil.which(d, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin") is None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalSlurm:
    def __init__(self, root: Path, memory_mb: int | None = None):
        self.root = Path(root)
        self.host = socket.gethostname().split(".")[0]
        self.cpus = os.cpu_count() or 1
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
        self.memory_mb = memory_mb or int(total * 0.8)
        # As many (pretend) GPUs as CPUs: GPU jobs run side by side as CPU jobs do.
        self.gpus = max(1, min(self.cpus, len(STAND_IN_DEVICES)))
        self.conf = self.root / "slurm.conf"
        self.jobcomp = self.root / "jobcomp.log"
        self.ctld_log = self.root / "slurmctld.log"
        self.munge_socket = self.root / "munge.socket"

    # ------------------------------------------------------------------ life cycle
    def __enter__(self) -> LocalSlurm:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self) -> dict:
        env = dict(os.environ)
        env["SLURM_CONF"] = str(self.conf)
        env["PATH"] = f"{env.get('PATH', '')}:/usr/sbin:/sbin"
        return env

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for d in ("state", "spool"):
            (self.root / d).mkdir(exist_ok=True)
        key = self.root / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        self._write_config()
        sbin = ":/usr/sbin:/sbin"
        path = os.environ.get("PATH", "") + sbin
        subprocess.run(
            [
                shutil.which("munged", path=path),
                "--force",
                f"--socket={self.munge_socket}",
                f"--key-file={key}",
                f"--pid-file={self.root / 'munged.pid'}",
                f"--log-file={self.root / 'munged.log'}",
                f"--seed-file={self.root / 'munged.seed'}",
            ],
            check=True,
            env=self.env(),
        )
        self._wait(lambda: self.munge_socket.exists(), "munged did not create its socket", self.root / "munged.log")
        subprocess.run([shutil.which("slurmctld", path=path), "-f", str(self.conf)], check=True, env=self.env())
        self._wait(self._controller_up, "slurmctld did not answer", self.ctld_log)
        subprocess.run([shutil.which("slurmd", path=path), "-f", str(self.conf)], check=True, env=self.env())
        self._wait(self._node_idle, "the node did not become idle", self.root / "slurmd.log", timeout=60)

    def stop(self) -> None:
        """Stop the daemons by the pid files they wrote (jobs still running are cancelled first)."""
        if self.conf.exists():
            subprocess.run(
                ["scancel", "--full", "-u", os.environ.get("USER", "root")], env=self.env(), capture_output=True
            )
        for name in ("slurmd", "slurmctld", "munged"):
            pidfile = self.root / f"{name}.pid"
            try:
                pid = int(pidfile.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)

    # ------------------------------------------------------------------ queries
    def completed_jobs(self) -> dict[str, dict]:
        """{job id: fields} of every finished job, from the job completion log."""
        jobs = {}
        if self.jobcomp.exists():
            for line in self.jobcomp.read_text().splitlines():
                fields = dict(re.findall(r"(\w+)=(\S*)", line))
                if "JobId" in fields:
                    jobs[fields["JobId"]] = fields
        return jobs

    def running_jobs(self) -> list[tuple[str, str]]:
        """(job id, name) of the jobs running now."""
        out = subprocess.run(
            ["squeue", "--noheader", "-t", "RUNNING", "-o", "%i %j"], env=self.env(), capture_output=True, text=True
        ).stdout
        return [tuple(line.split(maxsplit=1)) for line in out.splitlines() if line.strip()]

    # ------------------------------------------------------------------ internals
    def _write_config(self) -> None:
        r = self.root
        self.conf.write_text(
            f"""ClusterName=chromoflow-test
SlurmctldHost={self.host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={self.ctld_log}
SlurmdLogFile={r}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
JobCompType=jobcomp/filetxt
JobCompLoc={self.jobcomp}
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MessageTimeout=30
KillWait=10
InactiveLimit=0
MinJobAge=300
NodeName={self.host} {self._hardware()} RealMemory={self.memory_mb} Gres=gpu:{self.gpus} State=UNKNOWN
PartitionName=cpu Nodes={self.host} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes={self.host} MaxTime=INFINITE State=UP
"""
        )
        # Slurm counts a node's GPUs by their device files, and numbers them for CUDA_VISIBLE_DEVICES: harmless
        # character devices stand in for /dev/nvidia<i>.
        lines = [f"NodeName={self.host} Name=gpu File={dev}\n" for dev in STAND_IN_DEVICES[: self.gpus]]
        (self.root / "gres.conf").write_text("".join(lines))

    def _hardware(self) -> str:
        """CPUs, boards, sockets, cores and threads as slurmd finds them (it refuses a node described otherwise)."""
        out = subprocess.run(
            [shutil.which("slurmd", path=self.env()["PATH"]), "-C"], capture_output=True, text=True
        ).stdout
        words = [
            w
            for w in out.split()
            if w.split("=")[0] in ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore")
        ]
        return " ".join(words) or f"CPUs={self.cpus}"

    def _controller_up(self) -> bool:
        return (
            subprocess.run(["scontrol", "ping"], env=self.env(), capture_output=True, text=True).stdout.count("UP") > 0
        )

    def _node_idle(self) -> bool:
        out = subprocess.run(["sinfo", "-h", "-o", "%t"], env=self.env(), capture_output=True, text=True).stdout
        return "idle" in out

    def _wait(self, ready, what: str, log: Path, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if ready():
                return
            time.sleep(0.25)
        tail = log.read_text()[-2000:] if log.exists() else "(no log)"
        raise RuntimeError(f"local Slurm: {what} within {timeout:.0f} s; {log}:\n{tail}")
