// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ModelConfig is the subset of a Hugging Face transformers config.json that
// determines the parameter count of a decoder-only transformer with gated
// (SwiGLU-style) MLPs: the Llama, Mistral, Mixtral, Qwen2 and DeepSeek
// families. Pointer fields are nil when the key is absent.
type ModelConfig struct {
	ModelType         string `json:"model_type"`
	HiddenSize        int    `json:"hidden_size"`
	NumHiddenLayers   int    `json:"num_hidden_layers"`
	VocabSize         int    `json:"vocab_size"`
	IntermediateSize  int    `json:"intermediate_size"`
	NumAttentionHeads int    `json:"num_attention_heads"`
	NumKeyValueHeads  int    `json:"num_key_value_heads"`
	HeadDim           int    `json:"head_dim"`
	TieWordEmbeddings *bool  `json:"tie_word_embeddings"`
	AttentionBias     *bool  `json:"attention_bias"`

	// Mixture of experts. Mixtral names the expert count num_local_experts,
	// DeepSeek n_routed_experts and Qwen2-MoE num_experts.
	NumLocalExperts              int   `json:"num_local_experts"`
	NRoutedExperts               int   `json:"n_routed_experts"`
	NumExperts                   int   `json:"num_experts"`
	NumExpertsPerTok             int   `json:"num_experts_per_tok"`
	MoEIntermediateSize          int   `json:"moe_intermediate_size"`
	NSharedExperts               int   `json:"n_shared_experts"`
	SharedExpertIntermediateSize int   `json:"shared_expert_intermediate_size"`
	FirstKDenseReplace           int   `json:"first_k_dense_replace"`
	MoELayerFreq                 int   `json:"moe_layer_freq"`
	DecoderSparseStep            int   `json:"decoder_sparse_step"`
	MLPOnlyLayers                []int `json:"mlp_only_layers"`

	// Multi-head latent attention (DeepSeek-V2 and V3).
	QLoRARank     int `json:"q_lora_rank"`
	KVLoRARank    int `json:"kv_lora_rank"`
	QKNopeHeadDim int `json:"qk_nope_head_dim"`
	QKRopeHeadDim int `json:"qk_rope_head_dim"`
	VHeadDim      int `json:"v_head_dim"`

	// TextConfig is the language model of a multimodal config.
	TextConfig *ModelConfig `json:"text_config"`
}

// ParseHFConfig reads a config.json. A multimodal config whose top level has
// no hidden_size is replaced by its text_config.
func ParseHFConfig(r io.Reader) (ModelConfig, error) {
	var c ModelConfig
	if err := json.NewDecoder(r).Decode(&c); err != nil {
		return ModelConfig{}, fmt.Errorf("decoding config json: %w", err)
	}
	if c.HiddenSize == 0 && c.TextConfig != nil {
		c = *c.TextConfig
	}
	if err := c.check(); err != nil {
		return ModelConfig{}, err
	}
	return c, nil
}

func (c ModelConfig) check() error {
	required := []struct {
		key   string
		value int
	}{
		{"hidden_size", c.HiddenSize},
		{"num_hidden_layers", c.NumHiddenLayers},
		{"vocab_size", c.VocabSize},
		{"num_attention_heads", c.NumAttentionHeads},
	}
	for _, r := range required {
		if r.value <= 0 {
			return fmt.Errorf("config has no positive %s: only Llama-style decoder "+
				"configs (hidden_size, num_hidden_layers, ...) are supported", r.key)
		}
	}
	if c.IntermediateSize <= 0 && c.MoEIntermediateSize <= 0 {
		return errors.New("config has no positive intermediate_size or moe_intermediate_size")
	}
	if c.experts() > 0 && c.NumExpertsPerTok <= 0 {
		return errors.New("mixture-of-experts config has no positive num_experts_per_tok")
	}
	return nil
}

// Params returns the total parameter count and the parameters active per
// token. Embeddings, the output head, attention, MLPs, routers and RMSNorm
// weights are counted; rotary tables and multi-token-prediction modules are
// not. Dense models return the same count twice.
func (c ModelConfig) Params() (total, active float64) {
	h := float64(c.HiddenSize)
	embed := float64(c.VocabSize) * h
	head := embed
	if c.TieWordEmbeddings != nil && *c.TieWordEmbeddings {
		head = 0
	}
	total, active = embed+head+h, embed+head+h // h: final norm

	attn := c.attentionParams() + 2*h // two norms per layer
	for layer := 0; layer < c.NumHiddenLayers; layer++ {
		layerTotal, layerActive := c.mlpParams(layer)
		total += attn + layerTotal
		active += attn + layerActive
	}
	return total, active
}

func (c ModelConfig) headDim() int {
	if c.HeadDim > 0 {
		return c.HeadDim
	}
	return c.HiddenSize / c.NumAttentionHeads
}

func (c ModelConfig) attentionParams() float64 {
	h := float64(c.HiddenSize)
	heads := float64(c.NumAttentionHeads)
	if c.KVLoRARank > 0 {
		return c.latentAttentionParams()
	}
	kvHeads := float64(c.NumKeyValueHeads)
	if kvHeads == 0 {
		kvHeads = heads
	}
	d := float64(c.headDim())
	q, kv := heads*d, kvHeads*d
	params := h*q + 2*h*kv + q*h
	if c.hasQKVBias() {
		params += q + 2*kv
	}
	return params
}

// latentAttentionParams counts multi-head latent attention: queries and
// keys/values pass through low-rank projections with their own norms.
func (c ModelConfig) latentAttentionParams() float64 {
	h := float64(c.HiddenSize)
	heads := float64(c.NumAttentionHeads)
	qkDim := float64(c.QKNopeHeadDim + c.QKRopeHeadDim)
	qRank, kvRank := float64(c.QLoRARank), float64(c.KVLoRARank)

	q := h * heads * qkDim
	if qRank > 0 {
		q = h*qRank + qRank + qRank*heads*qkDim
	}
	kv := h*(kvRank+float64(c.QKRopeHeadDim)) + kvRank +
		kvRank*heads*float64(c.QKNopeHeadDim+c.VHeadDim)
	o := heads * float64(c.VHeadDim) * h
	return q + kv + o
}

func (c ModelConfig) hasQKVBias() bool {
	if c.AttentionBias != nil {
		return *c.AttentionBias
	}
	// Qwen2 configs carry no attention_bias key but their q, k and v
	// projections have biases.
	return c.ModelType == "qwen2" || c.ModelType == "qwen2_moe"
}

func (c ModelConfig) experts() int {
	for _, n := range []int{c.NumLocalExperts, c.NRoutedExperts, c.NumExperts} {
		if n > 0 {
			return n
		}
	}
	return 0
}

// gatedMLP is the size of a gate, up and down projection of width inner.
func (c ModelConfig) gatedMLP(inner int) float64 {
	return 3 * float64(c.HiddenSize) * float64(inner)
}

// mlpParams returns the MLP parameters of one layer, total and active.
func (c ModelConfig) mlpParams(layer int) (total, active float64) {
	if !c.isMoELayer(layer) {
		dense := c.gatedMLP(c.IntermediateSize)
		return dense, dense
	}
	h := float64(c.HiddenSize)
	experts := c.experts()
	inner := c.MoEIntermediateSize
	if inner == 0 {
		inner = c.IntermediateSize // Mixtral sizes experts with intermediate_size
	}
	expert := c.gatedMLP(inner)
	router := h * float64(experts)

	shared := float64(c.NSharedExperts) * expert
	if c.SharedExpertIntermediateSize > 0 {
		// Qwen2-MoE: one shared expert of its own width plus a scalar gate.
		shared = c.gatedMLP(c.SharedExpertIntermediateSize) + h
	}
	total = float64(experts)*expert + shared + router
	active = float64(c.NumExpertsPerTok)*expert + shared + router
	return total, active
}

func (c ModelConfig) isMoELayer(layer int) bool {
	if c.experts() == 0 || layer < c.FirstKDenseReplace {
		return false
	}
	for _, l := range c.MLPOnlyLayers {
		if l == layer {
			return false
		}
	}
	if c.MoELayerFreq > 1 && layer%c.MoELayerFreq != 0 {
		return false
	}
	if c.DecoderSparseStep > 1 && (layer+1)%c.DecoderSparseStep != 0 {
		return false
	}
	return true
}
