#!/usr/bin/env python3
"""Checks the user documentation against the repository and the binary.

1. Every relative link in README.md, CHANGELOG.md, docs/*.md and python/README.md points to a file that
   exists, and every #anchor to a heading of that file (GitHub's heading slugs).
2. Every `--flag` the README names exists: a `convscope SUB ...` command's flags in `convscope help SUB`,
   any other flag in the help of at least one command; every `convscope SUB` is a subcommand.

    tools/check-docs.py [--bin PATH]      (default: $CONVSCOPE_BIN, else .build/release/convscope)

Prints one line per problem and exits 1 if there is any. Needs only Python 3's standard library; web
links (http, https, mailto) are not fetched.
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK = re.compile(r'(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)')
FLAG = re.compile(r'(?<![\w-])--[a-z][a-z0-9+-]*')
# Flags every ArgumentParser command has, and the root command's completion option.
BUILT_IN = {'--help', '--version', '--generate-completion-script'}


def documents():
    names = ['README.md', 'CHANGELOG.md', 'python/README.md']
    names += sorted('docs/' + n for n in os.listdir(os.path.join(ROOT, 'docs')) if n.endswith('.md'))
    return [n for n in names if os.path.exists(os.path.join(ROOT, n))]


def without_code_blocks(text):
    """The text with fenced code blocks blanked (links are not links there), line numbers kept."""
    out, fenced = [], False
    for line in text.split('\n'):
        if line.lstrip().startswith('```'):
            fenced = not fenced
            out.append('')
        else:
            out.append('' if fenced else line)
    return out


def slug(heading):
    text = re.sub(r'[`*_]', '', heading.strip().lower())
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', text)
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def anchors(path):
    found, seen = set(), {}
    for line in without_code_blocks(open(path, encoding='utf-8').read()):
        match = re.match(r'#{1,6}\s+(.*)', line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f'{base}-{count}')
    return found


def check_links(problems):
    for name in documents():
        path = os.path.join(ROOT, name)
        for number, line in enumerate(without_code_blocks(open(path, encoding='utf-8').read()), 1):
            for match in LINK.finditer(line):
                target = match.group(1) or match.group(2)
                if re.match(r'[a-z]+:', target):
                    continue
                file_part, _, anchor = target.partition('#')
                resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
                where = f'{name}:{number}'
                if not os.path.exists(resolved):
                    problems.append(f'{where}: link to {target}: no file {os.path.relpath(resolved, ROOT)}')
                elif anchor and resolved.endswith('.md') and anchor not in anchors(resolved):
                    problems.append(f'{where}: link to {target}: no heading with the anchor #{anchor}')


def help_flags(binary, command, problems):
    args = [binary, 'help', command] if command else [binary, '--help']
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        # Said as what it is, not as a flag missing from the README's commands.
        first = (result.stderr.strip() or result.stdout.strip() or 'no output').split('\n')[0]
        problems.append(f'`{" ".join(args)}` exited with status {result.returncode}: {first}')
        return None
    return set(FLAG.findall(result.stdout))


def subcommands(binary):
    text = subprocess.run([binary, '--help'], capture_output=True, text=True, timeout=60).stdout
    listed = text.split('SUBCOMMANDS:', 1)[1] if 'SUBCOMMANDS:' in text else ''
    return re.findall(r'^  ([a-z][a-z0-9-]*)', listed, flags=re.M)


def check_flags(binary, problems):
    if not os.access(binary, os.X_OK):
        problems.append(f'no convscope binary at {binary}: build it (swift build -c release --product convscope) or pass --bin')
        return
    commands = subcommands(binary)
    flags = {c: help_flags(binary, c, problems) or set() for c in commands}
    everywhere = set().union(*flags.values()) | BUILT_IN
    text = open(os.path.join(ROOT, 'README.md'), encoding='utf-8').read()
    for number, line in enumerate(text.split('\n'), 1):
        where = f'README.md:{number}'
        named = set()
        # Commands in code spans or code lines: `convscope SUB --flag ...` (a pipe in a table ends a span).
        for span in re.findall(r'`([^`]*)`', line) + ([line] if line.startswith(('convscope ', '$ convscope ')) else []):
            for match in re.finditer(r'convscope ([a-z][a-z0-9-]*)((?: [^|]*)?)', span):
                sub, rest = match.group(1), match.group(2)
                if sub == 'help':
                    sub = rest.split()[0] if rest.split() else ''
                    if sub and sub not in commands:
                        problems.append(f'{where}: `convscope help {sub}`: {sub} is not a subcommand')
                    continue
                if sub not in commands:
                    if not sub.startswith('-'):
                        problems.append(f'{where}: `convscope {sub}` is not a subcommand ({", ".join(commands)})')
                    continue
                for flag in FLAG.findall(rest):
                    named.add(flag)
                    if flag not in flags[sub] | BUILT_IN:
                        problems.append(f'{where}: `convscope {sub}` has no {flag} (convscope help {sub})')
        for flag in FLAG.findall(line):
            if flag not in named and flag not in everywhere:
                problems.append(f'{where}: no command has {flag}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    default = os.environ.get('CONVSCOPE_BIN') or os.path.join(ROOT, '.build/release/convscope')
    parser.add_argument('--bin', default=default, help='the convscope binary whose help is checked')
    parser.add_argument('--links-only', action='store_true', help='check the links, not the flags')
    options = parser.parse_args()
    problems = []
    check_links(problems)
    if not options.links_only:
        check_flags(options.bin, problems)
    for problem in problems:
        print(problem)
    checked = 'links' if options.links_only else 'links and README flags'
    print(f'check-docs: {len(documents())} documents, {checked}: {len(problems)} problem(s)')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
