// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import (
	"path/filepath"
	"strings"
	"testing"
)

// Published counts are rounded to two or three significant figures ("7B",
// "46.7B", "2.7B"), and model cards differ on whether they count norms, the
// router and the output head, so the parameter count only needs to land
// within 2% of the published figure.
const paramTolerance = 0.02

func TestParamsFromHFConfig(t *testing.T) {
	tests := []struct {
		file   string
		total  float64 // published total parameters
		active float64 // published active parameters per token
		source string
	}{
		{"llama-2-7b.json", 6.74e9, 6.74e9, "Llama 2 paper, 6,738,415,616 on the model card"},
		{"llama-3.2-1b.json", 1.23e9, 1.23e9, "Llama 3.2 model card (1.23B, tied embeddings)"},
		{"mistral-7b-v0.1.json", 7.24e9, 7.24e9, "Mistral 7B announcement (7.3B; 7.24B on the card)"},
		{"mixtral-8x7b-v0.1.json", 46.7e9, 12.9e9, "Mixtral of Experts paper"},
		{"qwen1.5-moe-a2.7b.json", 14.3e9, 2.7e9, "Qwen1.5-MoE-A2.7B model card"},
		{"deepseek-moe-16b.json", 16.4e9, 2.8e9, "DeepSeekMoE paper"},
		{"deepseek-v3.json", 671e9, 37e9, "DeepSeek-V3 report, main model without MTP"},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.file, ".json"), func(t *testing.T) {
			input := readFile(t, filepath.Join("testdata", "hf", tc.file))
			cfg, err := ParseHFConfig(strings.NewReader(input))
			if err != nil {
				t.Fatal(err)
			}
			total, active := cfg.Params()
			t.Logf("total %.4g, active %.4g", total, active)

			checkNear(t, "total params ("+tc.source+")", total, tc.total, paramTolerance)
			checkNear(t, "active params ("+tc.source+")", active, tc.active, paramTolerance)
		})
	}
}

func TestParseHFConfigRejects(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{"gpt2 schema", readFile(t, "testdata/hf/gpt2.json"), "hidden_size"},
		{"not json", "{", "decoding config json"},
		{"moe without top-k", `{"hidden_size":8,"num_hidden_layers":1,"vocab_size":4,` +
			`"num_attention_heads":2,"intermediate_size":8,"num_local_experts":4}`,
			"num_experts_per_tok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHFConfig(strings.NewReader(tc.input))
			checkErrContains(t, err, tc.wantErr)
		})
	}
}

func TestParseHFConfigTextConfig(t *testing.T) {
	input := `{"model_type":"llava","text_config":` + readFile(t, "testdata/hf/llama-2-7b.json") + `}`
	cfg, err := ParseHFConfig(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	total, _ := cfg.Params()
	checkNear(t, "total params", total, 6.74e9, paramTolerance)
}
