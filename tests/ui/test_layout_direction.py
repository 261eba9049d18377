"""View > Layout Direction: Auto Layout lays the graph out left to right or top to bottom, choosing lays the open
project out at once (one undoable step), and the choice is remembered for the next window."""

from __future__ import annotations

from netbuilder.analysis.layout import Orientation, layered_positions
from netbuilder.ui.app.main_window import MainWindow
from tests.ui.conftest import forget_changes

LTR, TTB = Orientation.LEFT_TO_RIGHT, Orientation.TOP_TO_BOTTOM


def positions(window: MainWindow) -> dict[str, tuple[float, float]]:
    return {node_id: node.position for node_id, node in window.controller.graph.nodes.items()}


def test_left_to_right_is_the_first_choice_and_the_two_exclude_each_other(window):
    assert window.layout_orientation() is LTR
    assert window.layout_actions[LTR].isChecked() and not window.layout_actions[TTB].isChecked()
    window.layout_actions[TTB].trigger()
    assert window.layout_actions[TTB].isChecked() and not window.layout_actions[LTR].isChecked()
    assert window.layout_orientation() is TTB


def test_choosing_a_direction_lays_the_project_out_that_way_in_one_undoable_step(window):
    before = positions(window)
    window.layout_actions[TTB].trigger()
    assert positions(window) == layered_positions(window.controller.graph, TTB)
    assert window.controller.undo_stack.undoText().startswith("Auto Layout")
    window.controller.undo_stack.undo()
    assert positions(window) == before


def test_auto_layout_follows_the_chosen_direction(window):
    window.layout_actions[TTB].trigger()
    graph = window.controller.graph
    first = next(iter(graph.nodes))
    window.controller.move_nodes({first: (900.0, -700.0)})
    window.auto_layout_action.trigger()
    laid_out = positions(window)
    assert laid_out == layered_positions(graph, TTB)
    assert len({x for x, _ in laid_out.values()}) < len({y for _, y in laid_out.values()})  # a column, not a row


def test_the_direction_is_remembered_for_the_next_window(window, qtbot, settings, recovery):
    window.layout_actions[TTB].trigger()
    later = MainWindow(settings, recovery)
    qtbot.addWidget(later, before_close_func=forget_changes)
    assert later.layout_orientation() is TTB
    assert later.layout_actions[TTB].isChecked() and not later.layout_actions[LTR].isChecked()
