"""The blocks text models need, beyond the oracle. PositionalEmbedding and TokenPool: the values the generated code
computes (against a plain reference written step by step), refusals stricter than torch with the fixes a user sees,
their weights' names and starting values, and a text classifier drawn with them trains. Attention's padding mask
(the token indices at its `tokens` input): real steps do not see the padding, a project saves and loads with it, an
import reads `key_padding_mask=tokens == 0` back, and an exported model.py imports back to the same code."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from netbuilder.analysis import analyze
from netbuilder.blocks import catalogue
from netbuilder.blocks.errors import InsertBefore, SetOwnParam, ShapeError
from netbuilder.blocks.spec import RuleContext
from netbuilder.blocks.tensor_type import FLOAT, LONG, TensorType, batched
from netbuilder.codegen.model_code import generate_model
from netbuilder.graph import Graph
from netbuilder.graph.grouping import group
from netbuilder.importers import import_module, load_weights
from netbuilder.importers.sources import model_from_source
from netbuilder.project import Project, load_project, save_project
from netbuilder.runtime.build import build_model, load_module

VOCABULARY, STEPS, WIDTH = 30, 9, 8


def refusal(block: str, inputs: dict[str, TensorType], **params) -> ShapeError:
    spec = catalogue.get(block)
    p = {name: spec.param(name).validate(value) for name, value in {**spec.defaults(), **params}.items()}
    with pytest.raises(ShapeError) as caught:
        spec.infer(RuleContext(block, p, inputs))
    return caught.value


def text_model(*, pool: dict | None = None, positions: dict | None = None, seed: int = 0) -> tuple[nn.Module, str]:
    """tokens -> Embedding -> PositionalEmbedding -> TokenPool (reading the tokens too) -> Linear, as generated."""
    g = Graph()
    tokens = g.add_node("Input", params={"shape": (STEPS,), "dtype": LONG}).id
    embed = g.add_node("Embedding", params={"num_embeddings": VOCABULARY, "embedding_dim": WIDTH}).id
    place = g.add_node("PositionalEmbedding", label="pos", params={"max_length": 16, **(positions or {})}).id
    pooled = g.add_node("TokenPool", label="pool", params=pool or {}).id
    head = g.add_node("Linear", params={"out_features": 2}).id
    g.connect(tokens, "x", embed, "x")
    g.connect(embed, "y", place, "x")
    g.connect(place, "y", pooled, "x")
    g.connect(tokens, "x", pooled, "tokens")
    g.connect(pooled, "y", head, "x")
    analysis = analyze(g)
    assert not [d for d in analysis.diagnostics if not d.training_only and d.severity == "error"]
    code = generate_model(g, analysis)
    torch.manual_seed(seed)
    return build_model(code), code.source


def padded_tokens(generator: torch.Generator) -> torch.Tensor:
    """Right-padded rows of every length from 0 (padding only) to STEPS."""
    rows = torch.randint(1, VOCABULARY, (STEPS + 1, STEPS), generator=generator)
    for length in range(STEPS + 1):
        rows[length, length:] = 0
    return rows


def reference_pool(x: torch.Tensor, tokens: torch.Tensor, mode: str, padding: int) -> torch.Tensor:
    """The pooling written one sample at a time, the plain way."""
    rows = []
    for values, row in zip(x, tokens, strict=True):
        real = values[row != padding]
        if len(real) == 0:
            rows.append(torch.zeros(x.size(2)))
        elif mode == "mean":
            rows.append(real.mean(dim=0))
        elif mode == "max":
            rows.append(real.max(dim=0).values)
        else:
            rows.append(real[-1])
    return torch.stack(rows)


def pool_module(mode: str, padding: int = 0) -> nn.Module:
    spec = catalogue.get("TokenPool")
    namespace = {"torch": torch, "nn": nn}
    exec(spec.module.source, namespace)
    return namespace["TokenPool"](mode, padding)


# ------------------------------------------------------------------------------------------ PositionalEmbedding


def test_positional_embedding_adds_the_tables_first_rows_and_its_weight_is_named_weight():
    model, source = text_model()
    assert "self.pos = PositionalEmbedding(16, 8)" in source
    table = model.state_dict()["pos.weight"]
    assert table.shape == (16, WIDTH)
    x = torch.randn(4, STEPS, WIDTH)
    assert torch.equal(model.pos(x), x + table[:STEPS])
    assert sum(t.numel() for t in model.pos.parameters()) == 16 * WIDTH


def test_positional_embedding_starts_small_beside_the_token_vectors():
    model, _ = text_model(positions={"max_length": 4096})
    assert model.pos.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert abs(model.pos.weight.mean().item()) < 0.002


def test_positional_embedding_takes_the_weight_inits_embedding_takes():
    model, source = text_model(positions={"init": "xavier_uniform"}, seed=3)
    assert "nn.init.xavier_uniform_(self.pos.weight)" in source
    torch.manual_seed(3)
    nn.Embedding(VOCABULARY, WIDTH)  # built first, as in the model
    by_hand = torch.empty(16, WIDTH).normal_(std=0.02)
    nn.Linear(WIDTH, 2)
    nn.init.xavier_uniform_(by_hand)
    assert torch.equal(model.pos.weight.detach(), by_hand)


def test_positional_embedding_refuses_sequences_longer_than_its_table_and_offers_the_length():
    error = refusal("PositionalEmbedding", {"x": batched(200, 16)}, max_length=128)
    assert error.message == (
        "PositionalEmbedding has 128 positions (max_length) but receives sequences of 200 steps (N, 200, 16): "
        "set max_length to 200, the dataset's maximum length"
    )
    assert error.hint == SetOwnParam("max_length", 200)


def test_the_generated_class_refuses_a_longer_sequence_in_one_line():
    model, _ = text_model()
    with pytest.raises(ValueError, match="sequences of 17 steps are longer than max_length 16"):
        model.pos(torch.randn(2, 17, WIDTH))
    namespace = {"torch": torch, "nn": nn}
    exec(catalogue.get("PositionalEmbedding").module.source, namespace)
    one_row = namespace["PositionalEmbedding"](1, WIDTH)
    with pytest.raises(ValueError, match="longer than max_length 1"):  # slicing alone would broadcast the row
        one_row(torch.randn(2, 5, WIDTH))


def test_positional_embedding_on_token_indices_suggests_an_embedding_first():
    error = refusal("PositionalEmbedding", {"x": batched(12, dtype=LONG)})
    assert "put an Embedding before it" in error.message
    assert error.hint == InsertBefore("x", "Embedding")


@pytest.mark.parametrize("shape", [(16,), (3, 12, 16)])
def test_positional_embedding_needs_a_sequence(shape):
    error = refusal("PositionalEmbedding", {"x": batched(*shape)})
    assert error.message.startswith("PositionalEmbedding expects (N, sequence length, features) but receives")


def test_positional_embedding_infers_its_width():
    spec = catalogue.get("PositionalEmbedding")
    p = spec.defaults()
    ctx = RuleContext("PositionalEmbedding", p, {"x": batched(10, 24)})
    assert spec.infer(ctx) == {"y": batched(10, 24)}
    assert ctx.p["embedding_dim"] == 24
    assert spec.count_params(ctx.p, {}, {}) == 512 * 24


# ---------------------------------------------------------------------------------------------------- TokenPool


@pytest.mark.parametrize("mode", ["mean", "max", "last"])
@pytest.mark.parametrize("padding", [0, 3])
def test_token_pool_equals_the_reference_over_real_tokens_only(mode, padding):
    generator = torch.Generator().manual_seed(1)
    tokens = padded_tokens(generator)
    tokens[tokens == 0] = padding
    x = torch.randn(len(tokens), STEPS, WIDTH, generator=generator)
    pooled = pool_module(mode, padding)(x, tokens)
    torch.testing.assert_close(pooled, reference_pool(x, tokens, mode, padding))
    assert torch.equal(pooled[0], torch.zeros(WIDTH)), "a row of padding only gives zeros"


@pytest.mark.parametrize("mode", ["mean", "max", "last"])
def test_padding_never_reaches_the_result_nor_the_gradient(mode):
    """Attention over a row of padding only gives NaN at every step; the pooled row is zeros all the same."""
    tokens = padded_tokens(torch.Generator().manual_seed(2))
    x = torch.randn(len(tokens), STEPS, WIDTH, requires_grad=True)
    poisoned = x.masked_fill((tokens == 0).unsqueeze(-1), float("nan"))
    pooled = pool_module(mode)(poisoned, tokens)
    assert not pooled.isnan().any()
    pooled.sum().backward()
    assert torch.isfinite(x.grad).all()
    assert torch.equal(x.grad[tokens == 0], torch.zeros(int((tokens == 0).sum()), WIDTH))


def test_last_finds_the_last_real_step_wherever_the_padding_is():
    tokens = torch.tensor([[0, 0, 5, 6], [5, 0, 6, 0], [7, 8, 9, 4]])
    x = torch.arange(3 * 4 * 2, dtype=torch.float32).reshape(3, 4, 2)
    assert torch.equal(pool_module("last")(x, tokens), torch.stack([x[0, 3], x[1, 2], x[2, 3]]))


def test_the_mean_of_a_short_text_is_not_diluted_by_its_padding():
    tokens = torch.tensor([[4, 0, 0, 0]])
    x = torch.ones(1, 4, 3)
    assert torch.equal(pool_module("mean")(x, tokens), torch.ones(1, 3))


def test_token_pool_in_a_model_reads_the_tokens_that_feed_the_embedding():
    model, source = text_model(pool={"mode": "max"})
    assert "self.pool = TokenPool('max', padding_index=0)" in source
    assert "x = self.pool(x, input1)" in source
    tokens = padded_tokens(torch.Generator().manual_seed(3))
    logits = model(tokens)
    assert logits.shape == (STEPS + 1, 2) and torch.isfinite(logits).all()
    assert torch.equal(logits[0], model.fc1.bias.detach()), "padding only: the pooled vector is zeros"


def test_token_pool_needs_integer_tokens_of_the_sequences_length():
    x = batched(12, 16)
    floats = refusal("TokenPool", {"x": x, "tokens": batched(12)})
    assert floats.port == "tokens" and "needs the token indices (int64)" in floats.message
    other = refusal("TokenPool", {"x": x, "tokens": batched(10, dtype=LONG)})
    assert other.message == (
        "TokenPool needs one token per step of (N, 12, 16), (N, 12), at 'tokens' but receives (N, 10): connect the "
        "token indices that the Embedding before it reads"
    )
    assert refusal("TokenPool", {"x": x, "tokens": batched(12, 16, dtype=LONG)}).port == "tokens"
    assert refusal("TokenPool", {"x": batched(12, dtype=LONG), "tokens": batched(12, dtype=LONG)}).port == "x"
    assert refusal("TokenPool", {"x": batched(16), "tokens": batched(12, dtype=LONG)}).port == "x"


def test_token_pool_gives_one_vector_per_sample():
    spec = catalogue.get("TokenPool")
    ctx = RuleContext("TokenPool", spec.defaults(), {"x": batched(12, 16), "tokens": batched(12, dtype=LONG)})
    assert spec.infer(ctx) == {"y": TensorType(("N", 16), FLOAT)}
    assert spec.count_params(ctx.p, {}, {}) == 0


def test_a_padding_index_outside_the_vocabulary_is_a_warning_with_the_datasets_padding_as_fix():
    spec = catalogue.get("TokenPool")
    tokens = batched(12, dtype=LONG, classes=100)
    ctx = RuleContext("TokenPool", {**spec.defaults(), "padding_index": 100}, {"x": batched(12, 16), "tokens": tokens})
    assert spec.infer(ctx) == {"y": batched(16)}
    (warning,) = ctx.warnings
    assert warning.message == (
        "TokenPool padding_index 100 is no token of (N, 12), whose indices run from 0 to 99: no step is left out; "
        "set it to the index the dataset pads with"
    )
    assert warning.hint == SetOwnParam("padding_index", 0)
    ctx = RuleContext("TokenPool", {**spec.defaults(), "padding_index": 99}, {"x": batched(12, 16), "tokens": tokens})
    spec.infer(ctx)
    assert ctx.warnings == []


def test_an_unconnected_tokens_input_is_named():
    g = Graph()
    x = g.add_node("Input", params={"shape": (5, 4)}).id
    pooled = g.add_node("TokenPool").id
    g.connect(x, "x", pooled, "x")
    messages = [d.message for d in analyze(g).diagnostics if d.node == pooled]
    assert any("input 'tokens' is not connected" in m for m in messages)


# --------------------------------------------------------------------------------------------------- Together


def test_a_text_classifier_with_both_trains():
    model, _ = text_model(pool={"mode": "mean"})
    generator = torch.Generator().manual_seed(4)
    tokens = torch.randint(1, VOCABULARY, (64, STEPS), generator=generator)
    lengths = torch.randint(1, STEPS + 1, (64,), generator=generator)
    tokens[torch.arange(STEPS) >= lengths.unsqueeze(1)] = 0
    labels = (tokens == 7).any(dim=1).long()  # a 'sentiment word' somewhere in the text
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(60):
        loss = nn.functional.cross_entropy(model(tokens), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert model.pos.weight.grad is not None and model.pos.weight.grad[:STEPS].abs().sum() > 0


# ------------------------------------------------------------------------------------- Attention's padding mask


def attention_model(block: str, *, tokens: bool, **params) -> tuple[nn.Module, str]:
    """tokens -> Embedding -> the attention block, reading the tokens at its optional input when `tokens`."""
    g = Graph()
    source = g.add_node("Input", params={"shape": (STEPS,), "dtype": LONG}).id
    embed = g.add_node("Embedding", params={"num_embeddings": VOCABULARY, "embedding_dim": WIDTH}).id
    layer = g.add_node(block, label="layer", params={"dropout": 0.0, **params}).id
    g.connect(source, "x", embed, "x")
    g.connect(embed, "y", layer, "x")
    if tokens:
        g.connect(source, "x", layer, "tokens")
    code = generate_model(g, analyze(g))
    torch.manual_seed(0)
    return build_model(code), code.source


ATTENTION = [("MultiheadAttention", {"num_heads": 2}), ("TransformerEncoderLayer", {"nhead": 2})]


def attend(layer: nn.Module, x: torch.Tensor, padding: torch.Tensor | None) -> torch.Tensor:
    """The layer called by hand, as a person would, with the padding mask or without."""
    if isinstance(layer, nn.MultiheadAttention):
        return layer(x, x, x, key_padding_mask=padding, need_weights=False)[0]
    return layer(x, src_key_padding_mask=padding)


@pytest.mark.parametrize(("block", "params"), ATTENTION)
@pytest.mark.parametrize("training", [True, False])
def test_with_the_tokens_connected_real_steps_do_not_see_the_padding(block, params, training):
    model, source = attention_model(block, tokens=True, **params)
    mask = "key_padding_mask" if block == "MultiheadAttention" else "src_key_padding_mask"
    assert f"{mask}=input1 == 0" in source
    model.train(training)
    tokens = padded_tokens(torch.Generator().manual_seed(5))[1:]  # rows of 1 to STEPS real tokens
    padding = tokens == 0
    real = ~padding.unsqueeze(-1)
    with torch.no_grad():
        x = model.embed1(tokens)
        ours = model(tokens).masked_fill(~real, 0)
        torch.testing.assert_close(ours, attend(model.layer, x, padding).masked_fill(~real, 0))
        # other values at the padded steps change nothing at the real ones
        moved = attend(model.layer, x.masked_fill(padding.unsqueeze(-1), 5.0), padding)
        torch.testing.assert_close(ours, moved.masked_fill(~real, 0))
        assert not torch.allclose(ours, attend(model.layer, x, None).masked_fill(~real, 0)), "the mask matters"


@pytest.mark.parametrize(("block", "params"), ATTENTION)
def test_without_the_tokens_the_code_is_as_before(block, params):
    _, source = attention_model(block, tokens=False, **params)
    expected = "self.layer(x, x, x, need_weights=False)" if block == "MultiheadAttention" else "self.layer(x)"
    assert expected in source and "padding_mask" not in source


@pytest.mark.parametrize("block", ["MultiheadAttention", "TransformerEncoderLayer"])
def test_attention_refuses_tokens_that_are_not_one_index_per_step(block):
    x = batched(12, 16)
    for tokens in (batched(12), batched(10, dtype=LONG), batched(12, 3, dtype=LONG)):
        error = refusal(block, {"x": x, "tokens": tokens})
        assert error.port == "tokens"
        assert error.message.startswith(
            f"{block} masks padding by the token indices (int64) of each step of (N, 12, 16), (N, 12), but receives"
        )


def test_a_chain_of_encoder_layers_is_still_an_nn_sequential():
    g = Graph()
    source = g.add_node("Input", params={"shape": (STEPS, WIDTH)}).id
    layers = [g.add_node("TransformerEncoderLayer", label=str(i), params={"nhead": 2}).id for i in range(2)]
    g.connect(source, "x", layers[0], "x")
    g.connect(layers[0], "y", layers[1], "x")
    group(g, layers, "Encoder", label="encoder")
    source_code = generate_model(g, analyze(g)).source
    assert "nn.Sequential(\n" in source_code or "= nn.Sequential(" in source_code


def masked_transformer(seed: int) -> nn.Module:
    """Embedding -> PositionalEmbedding -> TransformerEncoderLayer masked by the tokens -> TokenPool -> Linear."""
    g = Graph()
    source = g.add_node("Input", params={"shape": (STEPS,), "dtype": LONG}).id
    chain = [
        g.add_node("Embedding", params={"num_embeddings": VOCABULARY, "embedding_dim": WIDTH, "padding_idx": 0}).id,
        g.add_node("PositionalEmbedding", params={"max_length": 16}).id,
        g.add_node(
            "TransformerEncoderLayer", label="encoder", params={"nhead": 2, "dim_feedforward": 16, "dropout": 0.0}
        ).id,
        g.add_node("TokenPool", params={"mode": "max"}).id,
        g.add_node("Linear", params={"out_features": 2}).id,
    ]
    previous = source
    for node in chain:
        g.connect(previous, g.spec(previous).outputs[0].name, node, "x")
        previous = node
    g.connect(source, "x", chain[2], "tokens")
    g.connect(source, "x", chain[3], "tokens")
    torch.manual_seed(seed)
    return build_model(generate_model(g, analyze(g)))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_a_masked_transformer_with_both_blocks_trains_as_a_cuda_graph_as_it_does_eagerly():
    from netbuilder.training.cuda_graph import GraphedStep

    generator = torch.Generator().manual_seed(6)
    batches = [padded_tokens(generator).repeat(2, 1) for _ in range(8)]  # rows of padding only included
    labels = [(tokens == 7).any(dim=1).long() for tokens in batches]

    def run(graphed: bool) -> list[float]:
        model = masked_transformer(seed=0).cuda()
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01, capturable=graphed)

        def step(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            output = model(x)
            loss = nn.functional.cross_entropy(output, y)
            optimizer.zero_grad(set_to_none=False)
            loss.backward()
            optimizer.step()
            return loss.detach(), output.detach()

        runner = GraphedStep(step, optimizer, len(batches[0])) if graphed else step
        losses = [float(runner(x.cuda(), y.cuda())[0]) for x, y in zip(batches, labels, strict=True)]
        if graphed:
            assert runner.reason == "" and runner.captures == 1
        return losses

    eager, graphed = run(False), run(True)
    assert all(torch.isfinite(torch.tensor(eager)))
    torch.testing.assert_close(torch.tensor(graphed), torch.tensor(eager), rtol=1e-4, atol=1e-5)


def test_a_project_with_the_tokens_wired_saves_and_loads_to_the_same_code(tmp_path):
    project = Project.new("text")
    g = project.graph
    source = g.add_node("Input", params={"shape": (STEPS,), "dtype": LONG}).id
    embed = g.add_node("Embedding", params={"num_embeddings": VOCABULARY, "embedding_dim": WIDTH}).id
    place = g.add_node("PositionalEmbedding", params={"max_length": 16, "init": "orthogonal"}).id
    encoder = g.add_node("TransformerEncoderLayer", params={"nhead": 2}).id
    pooled = g.add_node("TokenPool", params={"mode": "last", "padding_index": 1}).id
    for src, dst in ((source, embed), (embed, place), (place, encoder), (encoder, pooled)):
        g.connect(src, g.spec(src).outputs[0].name, dst, "x")
    g.connect(source, "x", encoder, "tokens")
    g.connect(source, "x", pooled, "tokens")
    before = generate_model(g, analyze(g)).source
    loaded = load_project(save_project(project, tmp_path / "text.nbproj")).graph
    assert generate_model(loaded, analyze(loaded)).source == before
    assert "src_key_padding_mask=input1 == 0" in before and "TokenPool('last', padding_index=1)" in before


class MaskedTextTransformer(nn.Module):
    """A text classifier as a person writes one: encoder layers and a self-attention, each masked by the padding
    written one of three ways, then the mean over the steps."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCABULARY, 16, padding_idx=0)
        self.layer1 = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True, norm_first=True)
        self.layer2 = nn.TransformerEncoderLayer(16, 2, dim_feedforward=24, batch_first=True)
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.layer1(self.embed(tokens), src_key_padding_mask=tokens == 0)
        x = self.layer2(x, src_key_padding_mask=torch.eq(tokens, 0))
        x, _ = self.attn(x, x, x, key_padding_mask=tokens.eq(0), need_weights=False)
        return self.head(x.mean(dim=1))


def test_an_import_reads_the_padding_mask_back_into_the_tokens_inputs():
    torch.manual_seed(0)
    original = MaskedTextTransformer().eval()
    result = import_module(original, (2, STEPS), "MaskedTextTransformer", dtype=LONG)
    assert result.unmapped == ()
    graph = result.project.graph
    (source,) = [n for n, node in graph.nodes.items() if node.block == "Input"]
    masked = [graph.nodes[e.dst].block for e in graph.outputs_of(source) if e.dst_port == "tokens"]
    assert sorted(masked) == ["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoderLayer"]
    code = generate_model(graph, analyze(graph), name=result.project.name)
    model = getattr(load_module(code.source), code.class_name)()
    model.load_state_dict(load_weights(result, original.state_dict()))
    tokens = padded_tokens(torch.Generator().manual_seed(7))[1:]
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(tokens), original(tokens), atol=1e-5, rtol=1e-5)


class OtherMasks(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCABULARY, 8)
        self.layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        causal = torch.triu(torch.ones(STEPS, STEPS, dtype=torch.bool), diagonal=1)
        x = self.layer(x, src_mask=causal)
        x, _ = self.attn(x, x, x, key_padding_mask=tokens == 1, need_weights=False)
        return self.encoder(x, src_key_padding_mask=tokens == 0)


def test_masks_other_than_the_padding_are_named_not_dropped():
    result = import_module(OtherMasks().eval(), (2, STEPS), "OtherMasks", dtype=LONG)
    reasons = {gap.call: gap.reason for gap in result.unmapped}
    assert reasons["nn.TransformerEncoderLayer"].startswith("a mask is passed to it; the block attends to every")
    assert reasons["nn.MultiheadAttention"].startswith("a mask is passed to it; the block attends to every")
    assert "operator.eq" in reasons, "tokens == 1 is no padding mask the blocks take: named at its line"
    # a stack's layers would lose torch's names (layers.0) once the mask reaches them through a composite's inlet
    assert reasons["nn.TransformerEncoder"].startswith("a mask or initial state is passed to it")


def test_an_exported_model_py_with_both_classes_imports_back_to_the_same_graph_and_code(tmp_path):
    model, source = text_model(pool={"mode": "last"})
    (tmp_path / "model.py").write_text(source)
    original, name = model_from_source(f"{tmp_path / 'model.py'}:Model")
    original.load_state_dict(model.state_dict())
    result = import_module(original.eval(), (2, STEPS), name, dtype=LONG)
    assert result.unmapped == ()
    blocks = {node.block: node.params for node in result.project.graph.nodes.values()}
    assert blocks["PositionalEmbedding"]["max_length"] == 16
    assert blocks["TokenPool"] == {"mode": "last", "padding_index": 0}
    graph = result.project.graph
    code = generate_model(graph, analyze(graph), name=result.project.name)
    assert code.source.partition("import torch")[2] == source.partition("import torch")[2], "the same code"
    again = getattr(load_module(code.source), code.class_name)()
    again.load_state_dict(load_weights(result, original.state_dict()))
    tokens = padded_tokens(torch.Generator().manual_seed(8))
    with torch.no_grad():
        torch.testing.assert_close(again.eval()(tokens), original(tokens))


class TokenPool(nn.Module):
    """A class of someone else's that has the name: the mean over every step."""

    def forward(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1)


class OwnNamedPool(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCABULARY, 8)
        self.pool = TokenPool()

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.pool(self.embed(tokens), tokens)


def test_a_class_of_another_origin_named_as_netbuilders_is_traced_as_any_other():
    result = import_module(OwnNamedPool().eval(), (2, STEPS), "OwnNamedPool", dtype=LONG)
    assert result.unmapped == ()
    graph = result.project.graph
    assert "TokenPool" not in {node.block for node in graph.nodes.values()}
    (inside,) = [d.graph for d in graph.definitions]  # the submodule as a block of its own: its mean
    assert [node.block for node in inside.nodes.values()] == ["Mean"]
