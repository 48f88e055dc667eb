"""The Train view: start, follow and stop training runs in the background."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from vidsift.services import library, train_jobs
from vidsift.views.common import shown_errors
from vidsift.workspace import Workspace, read_log


def page_train(ws: Workspace) -> None:
    st.header("Train")
    from vidsift.training.registry import METHODS

    if not METHODS:
        st.error("no training methods are installed")
        return
    with st.container(border=True):
        c1, c2 = st.columns([2, 1])
        method = c1.selectbox("Method", list(METHODS), key="t_method")
        c1.caption(getattr(METHODS[method], "DESCRIPTION", ""))
        preset = c2.radio("Preset", ["cpu", "paper"], key="t_preset", horizontal=True,
                          help="cpu: small inputs, minutes on a laptop; paper: the paper's sizes (GPU)")
        if "t_folder" not in st.session_state:
            with shown_errors():
                st.session_state["t_folder"] = library.default_folder(ws)
        c3, c4 = st.columns([2, 1])
        c3.text_input("Folder of videos to train on", key="t_folder", help="Scanned into the catalog first.")
        steps = c4.number_input("Steps (0: the preset's)", min_value=0, max_value=10_000_000, value=0, step=100, key="t_steps")
        run = ws.training_run(method, preset)
        how = "new run"
        if run.has_checkpoint:
            how = st.radio(f"`{run.name}` already holds a checkpoint",
                           ["resume it", "start over"], key="t_how", horizontal=True)
        if st.button("Start training", type="primary"):
            with shown_errors():
                job = train_jobs.start_training(ws, method, st.session_state["t_folder"], preset, steps=int(steps) or None,
                                        resume=how == "resume it", overwrite=how == "start over")
                st.success(f"started {method} ({preset}), pid {job.pid}; writing to {job.run_dir}")
    jobs = train_jobs.training_jobs(ws)
    running = any(train_jobs.job_state(j) == "running" for j in jobs)
    st.fragment(run_every=2.0 if running else None)(training_view)(str(ws.root))


def training_view(root: str) -> None:
    ws = Workspace(Path(root))
    jobs = {Path(j.run_dir).name: j for j in train_jobs.training_jobs(ws)}
    runs = train_jobs.training_runs(ws)
    names = list(dict.fromkeys([*jobs, *(r.name for r in runs)]))
    if not names:
        st.info("No training runs yet.")
        return
    import pandas as pd
    import plotly.express as px

    from vidsift.services.train import list_checkpoints

    info = {c["name"]: c for c in list_checkpoints(ws)}
    for name in names:
        job = jobs.get(name)
        state = train_jobs.job_state(job) if job else "from the command line"
        with st.container(border=True):
            c1, c2 = st.columns([4, 1])
            c1.markdown(f"**{name}** — {state}")
            if job is not None and state == "running":
                c2.button("Stop", key=f"stop_{name}", on_click=train_jobs.stop_training, args=(job,), type="primary")
            run = job.run if job else ws.run(name)
            df = pd.DataFrame(read_log(run.log))
            if len(df) and "loss" in df:
                last = df.iloc[-1]
                total = info.get(name, {}).get("steps")
                st.caption(f"step {int(last['step'])}" + (f" of {total}" if total else "") + f", loss {float(last['loss']):.4f}"
                           + (f" — embed with `ckpt:{name}`" if run.has_checkpoint else ""))
                # a fine-tune log holds two runs over the same steps: one line each
                fig = px.line(df, x="step", y="loss", color="run" if "run" in df else None, markers=True, height=260)
                fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10})
                st.plotly_chart(fig, width="stretch", key=f"loss_{name}")
            else:
                st.caption("no loss logged yet")
            if job is not None:
                out = train_jobs.tail(job.output, 15)
                if out:
                    with st.expander("output"):
                        st.code(out, language=None)
