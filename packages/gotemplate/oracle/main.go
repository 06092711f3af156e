// Command oracle renders Go templates with text/template + sprig for @strata/gotemplate's
// differential tests. It reads one JSON request per line on stdin and writes one JSON response
// per line on stdout, so a single process serves a whole test run.
//
// Request:  {"id":1,"name":"t","template":"...","data":...,"definitions":[{"name":"a.tmpl","text":"..."}]}
// Numbers in "data" keep their Go type: a number written with '.', 'e' or 'E' is a float64,
// any other number an int.
// Response: {"id":1,"ok":true,"out":"..."} or {"id":1,"ok":false,"err":"..."}
//
// Built offline in GOPATH mode: GO111MODULE=off GOPATH=/usr/share/gocode go build
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v2"
)

type definition struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

type request struct {
	ID          int             `json:"id"`
	Name        string          `json:"name"`
	Template    string          `json:"template"`
	Data        json.RawMessage `json:"data"`
	Definitions []definition    `json:"definitions"`
}

type response struct {
	ID  int    `json:"id"`
	Ok  bool   `json:"ok"`
	Out string `json:"out,omitempty"`
	Err string `json:"err,omitempty"`
}

// typed converts json.Number leaves to int or float64.
func typed(v interface{}) interface{} {
	switch x := v.(type) {
	case json.Number:
		s := x.String()
		if strings.ContainsAny(s, ".eE") {
			f, _ := x.Float64()
			return f
		}
		i, err := x.Int64()
		if err != nil {
			f, _ := x.Float64()
			return f
		}
		return int(i)
	case map[string]interface{}:
		for k, e := range x {
			x[k] = typed(e)
		}
		return x
	case []interface{}:
		for i, e := range x {
			x[i] = typed(e)
		}
		return x
	}
	return v
}

func funcMap(tmpl *template.Template) template.FuncMap {
	fm := sprig.TxtFuncMap()
	delete(fm, "env")
	delete(fm, "expandenv")
	exec := func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		if err := tmpl.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	counter := 0
	fm["include"] = exec
	fm["tpl"] = func(text string, data interface{}) (string, error) {
		counter++
		name := fmt.Sprintf("tpl-%d", counter)
		if _, err := tmpl.New(name).Parse(text); err != nil {
			return "", err
		}
		return exec(name, data)
	}
	fm["required"] = func(msg string, val interface{}) (interface{}, error) {
		if val == nil {
			return val, errors.New(msg)
		} else if s, ok := val.(string); ok && s == "" {
			return val, errors.New(msg)
		}
		return val, nil
	}
	fm["fromYaml"] = func(str string) (map[string]interface{}, error) {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(str), &m); err != nil {
			return nil, err
		}
		return m, nil
	}
	return fm
}

func render(req request) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	var data interface{}
	if len(req.Data) > 0 {
		dec := json.NewDecoder(bytes.NewReader(req.Data))
		dec.UseNumber()
		if err := dec.Decode(&data); err != nil {
			return "", fmt.Errorf("oracle: bad data: %w", err)
		}
		data = typed(data)
	}
	name := req.Name
	if name == "" {
		name = "t"
	}
	tmpl := template.New(name)
	tmpl.Funcs(funcMap(tmpl))
	for _, d := range req.Definitions {
		if _, err := tmpl.New(d.Name).Parse(d.Text); err != nil {
			return "", err
		}
	}
	if _, err := tmpl.Parse(req.Template); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func main() {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var req request
			resp := response{}
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				resp.Err = "oracle: bad request: " + jerr.Error()
			} else {
				resp.ID = req.ID
				s, rerr := render(req)
				if rerr != nil {
					resp.Err = rerr.Error()
				} else {
					resp.Ok = true
					resp.Out = s
				}
			}
			_ = enc.Encode(resp)
			_ = out.Flush()
		}
		if err != nil {
			return
		}
	}
}
