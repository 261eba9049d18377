"""Build the digits CNN from an empty canvas with real mouse and keyboard events, then train the sample digits
CNN with the Train button, look at its per-class figures, curves, predictions, what it looks at, a layer's
output and its gradients, compress it, train the sample sentiment LSTM and look at what each word of a review
did, run the learning-rate range test on the sample digits MLP, sweep its learning rate and width and compare
the runs, and save the README's screenshots. Run it on a display, or under Xvfb:

    xvfb-run -s "-screen 0 1600x900x24" .venv/bin/python docs/make_screenshots.py

It forgets the Flatten on purpose, to show how a mistake looks and how its fix is applied.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, QPoint, QPointF, QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from netbuilder.project.recovery import Recovery
from netbuilder.training.curves import one_vs_rest
from netbuilder.ui.app.main_window import MainWindow

IMAGES = Path(__file__).parent / "images"
SAMPLES = Path(__file__).parent.parent / "sample_projects"
STEP_MS = 60


def settle(ms: int = STEP_MS) -> None:
    QTest.qWait(ms)


def wait_until(done: Callable[[], bool], timeout_ms: int = 300_000) -> None:
    """Run the event loop until `done()` (an event loop, not qWait's polling, which starves worker threads)."""
    loop = QEventLoop()
    poll = QTimer()
    poll.timeout.connect(lambda: done() and loop.quit())
    poll.start(50)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    poll.stop()


class Person:
    """Drives the window the way a person would: cursor, Tab, typing, dragging between ports."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    @property
    def view(self):
        return self.window.view

    def point(self, scene_point: QPointF):
        return self.view.mapFromScene(scene_point)

    def add(self, block: str, where: QPointF) -> str:
        """Tab at `where`, type the block's name, Enter."""
        viewport = self.view.viewport()
        QTest.mouseMove(viewport, self.point(where))
        self.view.setFocus()
        before = set(self.window.document.graph.nodes)
        QTest.keyClick(self.view, Qt.Key.Key_Tab)
        settle()
        popup = QApplication.activePopupWidget()
        QTest.keyClicks(popup.focusWidget() or popup, block)
        QTest.keyClick(popup.focusWidget() or popup, Qt.Key.Key_Return)
        settle()
        (new,) = set(self.window.document.graph.nodes) - before
        return new

    def connect(self, source: str, output: str, target: str, port: str) -> None:
        scene = self.window.scene
        start = self.point(scene.nodes[source].output_position(output))
        end = self.point(scene.nodes[target].input_position(port))
        viewport = self.view.viewport()
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        for i in range(1, 9):
            QTest.mouseMove(viewport, start + (end - start) * (i / 8))
            QTest.qWait(10)
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
        settle()

    def select(self, node_id: str) -> None:
        item = self.window.scene.nodes[node_id]
        QTest.mouseClick(
            self.view.viewport(),
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            self.point(item.mapToScene(QPointF(60, 14))),
        )
        settle()

    def type_into(self, param: str, text: str) -> None:
        editor = self.window.inspector.fields[param].editor
        editor.setFocus()
        editor.selectAll()
        QTest.keyClicks(editor, text)
        QTest.keyClick(editor, Qt.Key.Key_Return)
        settle()


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    folder = Path(tempfile.mkdtemp())
    window = MainWindow(
        QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat), Recovery(folder / "recovery")
    )
    window.resize(1600, 900)
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.new_project()
    window.document.project.name = "Digits CNN"
    settle(300)
    person = Person(window)
    g = window.document.graph
    data = g.by_label("data").id
    window.view.set_zoom(0.62)  # every place the blocks go is in view, where the cursor can point
    window.view.centerOn(QPointF(600, 150))
    settle()

    row = 0.0
    conv = person.add("Conv2d", QPointF(230, row))
    relu = person.add("ReLU", QPointF(460, row))
    pool = person.add("MaxPool2d", QPointF(690, row))
    fc = person.add("Linear", QPointF(920, row))
    loss = person.add("CrossEntropy", QPointF(1000, 200))
    adam = person.add("Adam", QPointF(1000, 340))
    for source, output, target, port in (
        (data, "x", conv, "x"),
        (conv, "y", relu, "x"),
        (relu, "y", pool, "x"),
        (pool, "y", fc, "x"),
        (fc, "y", loss, "input"),
        (data, "target", loss, "target"),
        (loss, "loss", adam, "loss"),
    ):
        person.connect(source, output, target, port)
    window.frame_all()
    settle(200)
    person.select(conv)
    person.type_into("out_channels", "16")
    person.type_into("padding", "1")
    person.select(pool)
    person.type_into("kernel_size", "2")
    person.select(fc)
    person.type_into("out_features", "10")
    window.frame_all()
    settle(300)
    window.bottom_tabs.setCurrentWidget(window.problems)
    settle(200)
    IMAGES.mkdir(exist_ok=True)
    window.grab().save(str(IMAGES / "problem.png"))

    window.problems.select_diagnostic(next(d for d in window.problems.shown_diagnostics() if d.fix is not None))
    window.problems.apply_current_fix()
    settle(200)
    window.auto_layout()
    window.frame_all()
    person.select(next(n for n in g.nodes if g.nodes[n].block == "Flatten"))
    settle(300)
    window.grab().save(str(IMAGES / "editor.png"))

    window.bottom_tabs.setCurrentWidget(window.code)
    person.select(fc)
    settle(300)
    window.grab().save(str(IMAGES / "code.png"))
    problems = window.problems.counts()
    window.controller.undo_stack.setClean()
    train_and_predict(window, folder)
    compress_the_network(window)
    train_on_text(window, folder)
    find_a_learning_rate(window, folder)
    sweep_settings(window, folder)
    compare_runs(window)
    show_augmented_samples(window, folder)
    window.close()
    del app
    print(f"saved {', '.join(sorted(p.name for p in IMAGES.glob('*.png')))} to {IMAGES}; problems: {problems}")
    return 0 if problems == (0, 0) else 1


def train_and_predict(window: MainWindow, folder: Path) -> None:
    """The sample digits CNN trained with the Train button (a shorter run first, so one shows faintly behind),
    then the Predict tab on a sample it gets wrong."""
    path = folder / "digits_cnn.nbproj"
    shutil.copy(SAMPLES / "digits_cnn.nbproj", path)
    window.open_path(path)
    window.training_dock.raise_()
    panel = window.training
    wait_until(lambda: panel.cuda_names is not None)  # the device list is filled: torch is loaded
    for epochs in (4, 12):
        panel.fields["epochs"].setValue(epochs)
        QTest.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
        wait_until(lambda: panel.run is not None)
        wait_until(lambda: panel.run is None)
    settle(500)
    window.grab().save(str(IMAGES / "training.png"))
    tabs = panel.plot_tabs
    bar = tabs.tabBar()

    def look_at(tab) -> None:
        QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(tabs.indexOf(tab)).center())
        settle(300)

    # the dock's own views read better taller than the dock's first height
    window.resizeDocks([window.training_dock], [440], Qt.Orientation.Vertical)
    look_at(panel.plots.classes_page)
    window.grab().save(str(IMAGES / "classes.png"))
    predict = panel.predict_panel
    look_at(predict)
    wait_until(lambda: predict.predictions is not None)
    wrong = [i for i, right in enumerate(predict.predictions.correct) if not right]
    if wrong:
        predict.select(wrong[0])
    settle(500)
    window.grab().save(str(IMAGES / "predict.png"))

    # what the network looks at (Grad-CAM at its convolution) and what that convolution gives for the sample
    methods = predict.explanation.method_box
    methods.setCurrentIndex(methods.findData("gradcam"))
    wait_until(lambda: predict.sample_view.heat is not None)
    conv = next(n for n, node in window.document.graph.nodes.items() if node.block == "Conv2d")
    Person(window).select(conv)
    wait_until(lambda: predict.feature_map.picture.feature_map is not None)
    settle(500)
    window.grab().save(str(IMAGES / "explain.png"))

    look_at(panel.evaluation_tab)
    # the class it ranks worst, with a threshold read where it first finds 90 % of that class
    found = predict.predictions
    areas = [one_vs_rest(found.probabilities, found.true, c).roc.area for c in range(found.probabilities.shape[1])]
    worst = int(np.nanargmin(areas))
    roc_pr = panel.evaluation_tab.roc_pr
    roc_pr.chooser.setCurrentIndex(worst)
    roc_pr.read_point(int(np.argmax(roc_pr.curves.roc.y >= 0.9)))
    settle(500)
    window.grab().save(str(IMAGES / "roc_pr.png"))
    look_at(panel.gradients_tab)
    settle(500)
    window.grab().save(str(IMAGES / "gradients.png"))
    window.controller.undo_stack.setClean()


def compress_the_network(window: MainWindow) -> None:
    """Training > Compress… on the digits CNN just trained: channels pruned to half the MACs, fine-tuned 2 epochs,
    and each int8 quantization; the dialog with its table once every network is measured."""
    window.compress_action.trigger()
    dialog = window.compress_dialog
    form = dialog.form
    for box in (form.channels_box, *form.quantization_boxes.values()):
        QTest.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    form.fine_tune_field.setValue(2)
    dialog.resize(1440, 560)
    QTest.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    wait_until(lambda: not dialog.running)
    settle(500)
    dialog.grab().save(str(IMAGES / "compress.png"))
    dialog.done(0)


def find_a_learning_rate(window: MainWindow, folder: Path) -> None:
    """The learning-rate range test on the sample digits MLP, opened with the Training dock's Find LR… button:
    the dialog once the test is done, with its suggestion."""
    path = folder / "digits_mlp.nbproj"
    shutil.copy(SAMPLES / "digits_mlp.nbproj", path)
    window.open_path(path)
    window.training_dock.raise_()
    panel = window.training
    settle(300)
    QTest.mouseClick(panel.find_rate_button, Qt.MouseButton.LeftButton)
    dialog = panel.lr_dialog
    wait_until(lambda: not dialog.running)
    settle(500)
    dialog.grab().save(str(IMAGES / "lr_find.png"))
    dialog.done(0)


def sweep_settings(window: MainWindow, folder: Path) -> None:
    """A sweep of the sample digits MLP from Training > Sweep…: three learning rates (a log range) by three widths
    of fc1, 4 epochs each; the dialog once the nine runs are done, and its plot of them on its own."""
    path = folder / "digits_mlp.nbproj"
    if not path.exists():
        shutil.copy(SAMPLES / "digits_mlp.nbproj", path)
    window.open_path(path)
    window.sweep_action.trigger()
    dialog = window.sweep_dialog
    settle(300)
    rate = dialog.rows[0]
    rate.kind_box.setCurrentIndex(rate.kind_box.findText("log range"))
    rate.low_field.setText("2e-4")
    rate.high_field.setText("0.02")
    rate.count_field.setValue(3)
    QTest.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    width = dialog.rows[1]
    width.target_box.setCurrentIndex(width.target_box.findData("fc1.out_features"))
    width.values_field.setText("32,64,128")
    dialog.epochs_field.setValue(4)
    QTest.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    wait_until(lambda: dialog.is_running)
    wait_until(lambda: not dialog.is_running)
    settle(500)
    dialog.grab().save(str(IMAGES / "sweep.png"))
    dialog.plot.grab().save(str(IMAGES / "sweep_plot.png"))
    dialog.close()
    window.controller.undo_stack.setClean()


def compare_runs(window: MainWindow) -> None:
    """The Runs dock (View > Runs) over the sweep's runs, once fc1 is made wider than any run had it: the table
    with what each run differs in from now, every run selected and their validation losses overlaid."""
    window.controller.set_param(window.document.graph.by_label("fc1").id, "out_features", 96)
    window.runs_action.trigger()
    window.resizeDocks([window.runs_dock], [400], Qt.Orientation.Vertical)
    runs = window.runs
    settle(300)
    runs.table.selectAll()
    settle(500)
    window.grab().save(str(IMAGES / "runs.png"))
    window.controller.undo_stack.undo()
    window.controller.undo_stack.setClean()


def show_augmented_samples(window: MainWindow, folder: Path) -> None:
    """A Dataset of generated colour stripes set to flip, rotate, crop, jitter, erase and cut-mix its training
    images: the inspector's preview shows them as training sees them, each row one image drawn anew in every
    column (the preview alone: in the window it is below the Dataset's parameters)."""
    path = folder / "stripes_augmented.nbproj"
    shutil.copy(SAMPLES / "digits_cnn.nbproj", path)
    window.open_path(path)
    graph = window.document.graph
    data = next(node for node in graph.nodes if graph.nodes[node].block == "Dataset")
    changes = (("dataset", "stripes"), ("classes", 4), ("image_size", 32), ("augment", "flip"), ("rotation", 20.0))
    for name, value in (*changes, ("crop_scale", 0.6), ("jitter", 0.3), ("erasing", 0.4), ("cutmix", 1.0)):
        window.controller.set_param(data, name, value)
    Person(window).select(data)
    preview = window.inspector.preview
    QTest.mouseClick(preview.button, Qt.MouseButton.LeftButton)
    wait_until(lambda: preview.augmented.grid is not None)
    preview.resize(460, preview.sizeHint().height())
    settle(500)
    preview.grab().save(str(IMAGES / "augment.png"))
    window.controller.undo_stack.setClean()


def train_on_text(window: MainWindow, folder: Path) -> None:
    """The sample sentiment LSTM trained with the Train button, then the Predict tab on a review, each token
    coloured by integrated gradients."""
    path = folder / "sentiment_lstm.nbproj"
    shutil.copy(SAMPLES / "sentiment_lstm.nbproj", path)
    window.open_path(path)
    window.training_dock.raise_()
    panel = window.training
    QTest.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    wait_until(lambda: panel.run is not None)
    wait_until(lambda: panel.run is None)
    window.resizeDocks([window.training_dock], [440], Qt.Orientation.Vertical)
    tabs = panel.plot_tabs
    bar = tabs.tabBar()
    predict = panel.predict_panel
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(tabs.indexOf(predict)).center())
    wait_until(lambda: predict.predictions is not None)
    predict.select(1)
    methods = predict.explanation.method_box
    methods.setCurrentIndex(methods.findData("ig"))
    wait_until(lambda: predict.sample_view.text.flow.heat is not None)
    settle(500)
    window.grab().save(str(IMAGES / "text_predict.png"))
    window.controller.undo_stack.setClean()


if __name__ == "__main__":
    raise SystemExit(main())
