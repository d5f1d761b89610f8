#!/usr/bin/env python3
"""Runs the PyTorch peer (torch_gpt.py) with its clock switched to this process's CPU time, to
compare with `gpt_step.ts --clock cpu` on a shared, oversubscribed machine (one BLAS thread).
Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 peer_cpu_clock.py /path/to/torch_gpt.py [peer options]"""
import runpy, sys, time

time.time = time.process_time
script = sys.argv[1]
sys.argv = [script] + sys.argv[2:]
runpy.run_path(script, run_name='__main__')
