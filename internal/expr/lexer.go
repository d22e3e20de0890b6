package expr

import (
	"strings"
	"unicode/utf8"
)

// tokKind is the lexical class of a token.
type tokKind uint8

const (
	tokEOF      tokKind = iota
	tokIdent            // [A-Za-z][A-Za-z0-9_]*: an attribute, function or keyword
	tokName             // #[A-Za-z0-9_]+
	tokValue            // :[A-Za-z0-9_]+
	tokNumber           // [0-9]+, a list index
	tokLParen           // (
	tokRParen           // )
	tokLBracket         // [
	tokRBracket         // ]
	tokComma            // ,
	tokDot              // .
	tokEq               // =
	tokNe               // <>
	tokLt               // <
	tokLe               // <=
	tokGt               // >
	tokGe               // >=
	tokPlus             // +
	tokMinus            // -
	tokInvalid          // any other character; always a syntax error
)

// token is one lexeme: src[start:end].
type token struct {
	kind       tokKind
	start, end int
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// lex splits src into tokens, ending with a tokEOF token at len(src). It
// never fails: a character no token starts with becomes a tokInvalid token
// that the parser reports as DynamoDB does, as a syntax error on it.
func lex(src string, toks []token) []token {
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		kind := tokInvalid
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isLetter(c):
			i++
			for i < len(src) && isWordByte(src[i]) {
				i++
			}
			kind = tokIdent
		case '0' <= c && c <= '9':
			for i < len(src) && '0' <= src[i] && src[i] <= '9' {
				i++
			}
			kind = tokNumber
		case c == '#' || c == ':':
			i++
			for i < len(src) && isWordByte(src[i]) {
				i++
			}
			if i-start > 1 {
				kind = tokName
				if c == ':' {
					kind = tokValue
				}
			}
		default:
			i++
			switch c {
			case '(':
				kind = tokLParen
			case ')':
				kind = tokRParen
			case '[':
				kind = tokLBracket
			case ']':
				kind = tokRBracket
			case ',':
				kind = tokComma
			case '.':
				kind = tokDot
			case '=':
				kind = tokEq
			case '+':
				kind = tokPlus
			case '-':
				kind = tokMinus
			case '<':
				kind = tokLt
				if i < len(src) && src[i] == '>' {
					kind, i = tokNe, i+1
				} else if i < len(src) && src[i] == '=' {
					kind, i = tokLe, i+1
				}
			case '>':
				kind = tokGt
				if i < len(src) && src[i] == '=' {
					kind, i = tokGe, i+1
				}
			default:
				if c >= utf8.RuneSelf {
					_, size := utf8.DecodeRuneInString(src[start:])
					i = start + size
				}
			}
		}
		toks = append(toks, token{kind: kind, start: start, end: i})
	}
	return append(toks, token{kind: tokEOF, start: len(src), end: len(src)})
}

// isKeyword reports whether the identifier text is kw in any letter case.
func isKeyword(text, kw string) bool { return strings.EqualFold(text, kw) }
