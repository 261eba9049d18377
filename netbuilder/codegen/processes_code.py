"""The parts of train.py that let torchrun run it in several processes: joining the process group, each
process's share of a batch, and SyncBatchNorm. Run alone, the script is rank 0 of 1 and these change nothing."""

from __future__ import annotations

START_PROCESSES = '''\
def start_processes(device: str) -> tuple[int, int, str]:
    """This process's rank, how many processes train together, and this process's device. Under torchrun
    (which sets RANK, WORLD_SIZE and LOCAL_RANK) the processes join one group: on CUDA through nccl, each on
    its own GPU (cuda:LOCAL_RANK), on the CPU through gloo. Run alone, it is rank 0 of 1, on `device`."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, device
    if torch.device(device).type == "cuda":
        device = f"cuda:{int(os.environ['LOCAL_RANK'])}"
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return dist.get_rank(), world, device'''

SHARD = '''\
def shard(size: int, rank: int, world: int) -> tuple[slice, int]:
    """This process's contiguous part of a global batch of `size` samples (the parts as even as they can be:
    the first processes take one more), and how many samples it adds to the step. A process left without any
    (a last batch with fewer samples than processes) takes the batch's first sample and adds nothing, so that
    every process still takes each step."""
    share, extra = divmod(size, world)
    start = rank * share + min(rank, extra)
    count = share + (rank < extra)
    return (slice(start, start + count), count) if count else (slice(0, 1), 0)'''

SYNC_BATCHNORM = [
    '    if sync_batchnorm == "on" and world > 1:  # batch norm\'s statistics over the whole batch',
    '        if not device.startswith("cuda"):',
    '            raise SystemExit("--sync-batchnorm: torch\'s SyncBatchNorm needs CUDA; train on GPUs or set it off")',
    "        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)",
]

# the first lines of train(): the process group, and a batch too small to share out refused
JOIN_PROCESSES = [
    "    rank, world, device = start_processes(device)",
    "    if batch_size < world:",
    '        raise SystemExit(f"--batch-size {batch_size} is smaller than the {world} processes: each needs a "',
    '                         "share of every batch; take a larger batch or fewer processes")',
]

STEP_MODEL = [
    "    # the model of the step: under torchrun, DistributedDataParallel averages the processes' gradients",
    "    step_model = model",
    "    if world > 1:",
    '        gpus = [device] if device.startswith("cuda") else None',
    "        step_model = nn.parallel.DistributedDataParallel(model, gpus)",
]

# a streamed epoch's loop, each process reading only its own samples
STREAMED_SHARES = [
    "        # this process's samples of each global batch, read in batches of its share",
    "        starts = range(0, len(order), batch_size)",
    "        shares = [shard(min(batch_size, len(order) - start), rank, world) for start in starts]",
    "        mine = [i for start, (part, _) in zip(starts, shares, strict=True) for i in order[start:][part]]",
    "        share = shares[0][0].stop - shares[0][0].start",
    "        for step, (batch_x, batch_y) in enumerate(batches(train_part, mine, share, device, workers)):",
    "            count = shares[step][1]",
    "            weight = world * count / min(batch_size, len(order) - step * batch_size)",
]
