"""Specification of the XML launch parser: files in, final process command lines out (no processes)."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from reflexarc.launch_xml import (
    LaunchError,
    declared_arguments,
    find_package_share,
    format_parameter_value,
    parse_launch_arguments,
    parse_launch_file,
    resolve_node_command,
    typed_parameter_value,
)


def _fake_node(package: str | None, executable: str) -> tuple[str, ...]:
    return (f"/opt/{package}/bin/{executable}",)


def _write(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text("<launch>\n" + textwrap.dedent(body).strip() + "\n</launch>\n", encoding="utf-8")
    return path


def _parse(path: Path, args: dict[str, str] | None = None, environ: dict[str, str] | None = None):
    return parse_launch_file(path, args, environ=environ or {}, resolve_node=_fake_node)


def _by_name(description):
    return {spec.name: spec for spec in description.processes}


# -- arguments ------------------------------------------------------------------------------------


def test_arg_default_applies_when_not_given(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<arg name="rate" default="10"/>')
    assert _parse(path).configurations["rate"] == "10"


def test_command_line_argument_overrides_default(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<arg name="rate" default="10"/>')
    assert _parse(path, {"rate": "20"}).configurations["rate"] == "20"


def test_missing_required_argument_is_an_error_naming_it_and_its_line(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <arg name="rate" default="10"/>
        <arg name="robot" description="which robot"/>
    """)
    with pytest.raises(LaunchError) as excinfo:
        _parse(path)
    message = str(excinfo.value)
    assert "'robot'" in message and "which robot" in message
    assert f"{path}:3:" in message
    assert "robot:=VALUE" in message


def test_arg_with_choices_rejects_other_values(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <arg name="sim" default="2d"><choice value="2d"/><choice value="pybullet"/></arg>
    """)
    assert _parse(path, {"sim": "pybullet"}).configurations["sim"] == "pybullet"
    with pytest.raises(LaunchError, match="valid choices are 2d, pybullet"):
        _parse(path, {"sim": "gazebo"})


def test_command_line_arguments_are_written_name_assign_value():
    assert parse_launch_arguments(["robot:=r1", "cmd:=a:=b", "empty:="]) == {
        "robot": "r1", "cmd": "a:=b", "empty": ""}
    with pytest.raises(LaunchError, match="name:=value"):
        parse_launch_arguments(["robot=r1"])


def test_declared_arguments_lists_top_level_args_without_evaluating(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <arg name="robot" description="which robot"/>
        <arg name="rate" default="$(env RATE 10)"/>
    """)
    declared = declared_arguments(path)
    assert [(a.name, a.default, a.description) for a in declared] == [
        ("robot", None, "which robot"), ("rate", "$(env RATE 10)", "")]


# -- substitutions ----------------------------------------------------------------------------------


def test_var_of_an_unset_configuration_is_an_error(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<let name="x" value="$(var nope)"/>')
    with pytest.raises(LaunchError, match="'nope' is not set"):
        _parse(path)


def test_env_substitution_reads_the_environment_or_its_default(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <let name="home" value="$(env HOME_DIR)"/>
        <let name="mode" value="$(env MODE 'fast mode')"/>
    """)
    configurations = _parse(path, environ={"HOME_DIR": "/home/r"}).configurations
    assert configurations["home"] == "/home/r"
    assert configurations["mode"] == "fast mode"


def test_env_substitution_without_default_fails_when_unset(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<let name="home" value="$(env HOME_DIR)"/>')
    with pytest.raises(LaunchError, match="'HOME_DIR' is not set"):
        _parse(path)


def test_find_pkg_share_resolves_to_the_directory_holding_launch_files(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<let name="share" value="$(find-pkg-share reflexarc)"/>')
    share = Path(_parse(path).configurations["share"])
    assert share == find_package_share("reflexarc")
    assert (share / "launch").is_dir()
    assert (share / "reflexarc" / "launch_xml.py").is_file()


def test_find_pkg_share_of_another_package_is_an_error(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<let name="share" value="$(find-pkg-share turtlesim)"/>')
    with pytest.raises(LaunchError, match="'turtlesim' is not available"):
        _parse(path)


def test_dirname_is_the_directory_of_the_file_being_parsed(tmp_path):
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub", "inner.launch.xml", '<let name="inner_dir" value="$(dirname)"/>')
    path = _write(tmp_path, "top.launch.xml", """
        <let name="top_dir" value="$(dirname)"/>
        <include file="$(dirname)/sub/inner.launch.xml"/>
    """)
    configurations = _parse(path).configurations
    assert configurations["top_dir"] == str(tmp_path.resolve())
    assert configurations["inner_dir"] == str((tmp_path / "sub").resolve())


@pytest.mark.parametrize(("expression", "expected"), [
    ("'$(var mode)' == 'sim'", "True"),
    ("$(var speed) * 2 > 1.5 and not False", "True"),
    ("'$(var mode)' in ('real', 'hw')", "False"),
    ("3 // 2 + 0.5", "1.5"),
])
def test_eval_computes_literal_and_boolean_expressions(tmp_path, expression, expected):
    path = _write(tmp_path, "a.launch.xml", f"""
        <let name="mode" value="sim"/>
        <let name="speed" value="0.8"/>
        <let name="out" value="$(eval &quot;{expression}&quot;)"/>
    """)
    assert _parse(path).configurations["out"] == expected


@pytest.mark.parametrize("expression", ["__import__('os').getcwd()", "open('/etc/passwd')", "math.pi", "2 ** 8"])
def test_eval_refuses_names_calls_and_other_code(tmp_path, expression):
    path = _write(tmp_path, "a.launch.xml", f'<let name="out" value="$(eval &quot;{expression}&quot;)"/>')
    with pytest.raises(LaunchError, match="only literals"):
        _parse(path)


def test_boolean_substitutions_combine_conditions(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <let name="a" value="$(not true)"/>
        <let name="b" value="$(and true 1)"/>
        <let name="c" value="$(or false 0)"/>
        <let name="d" value="$(equals 1.0 1)"/>
        <let name="e" value="$(not-equals sim real)"/>
    """)
    configurations = _parse(path).configurations
    assert [configurations[k] for k in "abcde"] == ["false", "true", "false", "true", "true"]


def test_unsupported_substitution_is_an_error_listing_supported_ones(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<let name="x" value="$(command ls)"/>')
    with pytest.raises(LaunchError, match=r"unsupported substitution \$\(command\); supported: var, env"):
        _parse(path)


def test_unterminated_substitution_is_an_error(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<let name="x" value="$(var x"/>')
    with pytest.raises(LaunchError, match="unterminated"):
        _parse(path)


def test_backslash_escapes_a_dollar(tmp_path):
    path = _write(tmp_path, "a.launch.xml", r'<let name="x" value="cost \$(5)"/>')
    assert _parse(path).configurations["x"] == "cost $(5)"


# -- conditions -------------------------------------------------------------------------------------


def test_if_and_unless_select_actions(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <arg name="voice" default="false"/>
        <executable cmd="listen" name="listen" if="$(var voice)"/>
        <executable cmd="type" name="type" unless="$(var voice)"/>
    """)
    assert list(_by_name(_parse(path))) == ["type"]
    assert list(_by_name(_parse(path, {"voice": "True"}))) == ["listen"]


def test_condition_that_is_not_a_boolean_is_an_error(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<executable cmd="x" if="maybe"/>')
    with pytest.raises(LaunchError, match="true/false/1/0"):
        _parse(path)


# -- nodes, params, remaps ------------------------------------------------------------------------------


def test_node_command_carries_ros_arguments_as_ros2_launch_passes_them(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <node pkg="reflexarc" exec="reflex_node" name="reflex" namespace="robot1" args="--fast"
              output="screen">
            <param name="rate_hz" value="50"/>
            <remap from="/cmd_vel" to="cmd_vel_raw"/>
        </node>
    """)
    (spec,) = _parse(path).processes
    assert spec.cmd == (
        "/opt/reflexarc/bin/reflex_node", "--fast", "--ros-args",
        "-r", "__node:=reflex", "-r", "__ns:=/robot1", "-p", "rate_hz:=50", "-r", "/cmd_vel:=cmd_vel_raw",
    )
    assert spec.name == "robot1/reflex"
    assert spec.output == "screen"
    assert spec.node is not None and spec.node.namespace == "/robot1"


def test_node_without_name_or_namespace_passes_only_ros_args_flag(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<node pkg="reflexarc" exec="sim_node"/>')
    (spec,) = _parse(path).processes
    assert spec.cmd == ("/opt/reflexarc/bin/sim_node", "--ros-args")
    assert spec.name == "sim_node"
    assert spec.output == "log"


@pytest.mark.parametrize(("text", "expected"), [
    ("1", 1),
    ("1.0", 1.0),
    ("true", True),
    ("asd", "asd"),
    ("'1'", "1"),
    ("[1, 2, 3]", [1, 2, 3]),
    ("[1, 2.5]", [1.0, 2.5]),
    ("['a', 'b']", ["a", "b"]),
    ("{a: 1}", "{a: 1}"),
    ("", ""),
    ("2024-01-01", "2024-01-01"),
])
def test_param_values_are_typed_by_yaml_rules_like_ros2_launch(text, expected):
    value = typed_parameter_value(text)
    assert value == expected
    assert type(value) is type(expected)


def test_param_type_attribute_forces_the_type(tmp_path):
    assert typed_parameter_value("1", "str") == "1"
    assert typed_parameter_value("1", "float") == 1.0
    assert typed_parameter_value(["1", "2"], "list_of_str") == ["1", "2"]
    with pytest.raises(LaunchError, match="not a valid int"):
        typed_parameter_value("1.5", "int")


def test_nested_params_and_value_sep_lists_become_dotted_names_and_lists(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <node pkg="reflexarc" exec="reflex_node">
            <param name="shield">
                <param name="stop_m" value="0.25"/>
                <param name="zones" value="0.25;0.5" value-sep=";"/>
            </param>
            <param name="label" value="'007'"/>
        </node>
    """)
    (spec,) = _parse(path).processes
    assert spec.node.parameters == (("shield.stop_m", 0.25), ("shield.zones", [0.25, 0.5]), ("label", "007"))
    assert spec.cmd[-6:] == ("-p", "shield.stop_m:=0.25", "-p", "shield.zones:=[0.25, 0.5]", "-p", 'label:="007"')


def test_param_from_file_passes_a_params_file(tmp_path):
    params = tmp_path / "reflex.yaml"
    params.write_text("/**:\n  ros__parameters:\n    rate_hz: 50\n", encoding="utf-8")
    path = _write(tmp_path, "a.launch.xml", """
        <node pkg="reflexarc" exec="reflex_node"><param from="$(dirname)/reflex.yaml"/></node>
    """)
    (spec,) = _parse(path).processes
    assert spec.cmd[-2:] == ("--params-file", str(params.resolve()))


def test_param_from_a_missing_file_is_an_error(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <node pkg="reflexarc" exec="reflex_node"><param from="$(dirname)/nope.yaml"/></node>
    """)
    with pytest.raises(LaunchError, match="nope.yaml does not exist"):
        _parse(path)


def test_parameter_text_reads_back_as_the_same_types_in_rcl():
    import rclpy
    from rclpy.context import Context
    from rclpy.node import Node

    values = {"i": 3, "f": 0.5, "b": False, "s": "hello world", "n": "1", "e": "", "q": "a: b",
              "li": [1, 2], "lf": [0.25, 0.5], "ls": ["x", "y z"], "lb": [True, False]}
    argv = ["launch_test", "--ros-args"]
    for name, value in values.items():
        argv += ["-p", f"{name}:={format_parameter_value(value)}"]
    context = Context()
    rclpy.init(args=argv, context=context)
    try:
        node = Node("launch_test", context=context, automatically_declare_parameters_from_overrides=True)
        read = {name: node.get_parameter(name).value for name in values}
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
    assert {k: list(v) if not isinstance(v, (str, int, float, bool)) else v for k, v in read.items()} == values


def test_node_of_an_unknown_package_is_an_error(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<node pkg="turtlesim" exec="turtlesim_node"/>')
    with pytest.raises(LaunchError, match="'turtlesim' is not available"):
        parse_launch_file(path, environ={})


def test_node_executable_prefers_the_console_script_of_this_environment(tmp_path, monkeypatch):
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / "reflex_node"
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert resolve_node_command("reflexarc", "reflex_node") == (str(script),)
    assert resolve_node_command("reflexarc", "sim_node") == (sys.executable, "-m", "sim.sim_node")
    with pytest.raises(LaunchError, match="no executable 'nope'"):
        resolve_node_command("reflexarc", "nope")


def test_invalid_node_name_is_an_error(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<node pkg="reflexarc" exec="sim_node" name="sim-1"/>')
    with pytest.raises(LaunchError, match="invalid node name 'sim-1'"):
        _parse(path)


# -- groups, namespaces, includes ---------------------------------------------------------------------------


def test_pushed_namespace_prefixes_relative_node_namespaces_only(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <group>
            <push_ros_namespace namespace="fleet"/>
            <group>
                <push_ros_namespace namespace="r1"/>
                <node pkg="reflexarc" exec="reflex_node" name="reflex"/>
                <node pkg="reflexarc" exec="reflex_node" name="arm" namespace="hw"/>
                <node pkg="reflexarc" exec="reflex_node" name="sim" namespace="/world"/>
            </group>
            <node pkg="reflexarc" exec="executive_node" name="executive"/>
        </group>
        <node pkg="reflexarc" exec="sim_node" name="top"/>
    """)
    namespaces = {spec.name: spec.node.namespace for spec in _parse(path).processes}
    assert namespaces == {
        "fleet/r1/reflex": "/fleet/r1", "fleet/r1/hw/arm": "/fleet/r1/hw", "world/sim": "/world",
        "fleet/executive": "/fleet", "top": None,
    }


def test_scoped_group_keeps_its_configurations_to_itself(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <let name="x" value="outer"/>
        <group>
            <let name="x" value="inner"/>
            <let name="only_inside" value="1"/>
            <executable cmd="echo $(var x)" name="inside"/>
        </group>
        <group scoped="false"><let name="leaked" value="yes"/></group>
    """)
    description = _parse(path)
    assert description.processes[0].cmd == ("echo", "inner")
    assert description.configurations["x"] == "outer"
    assert "only_inside" not in description.configurations
    assert description.configurations["leaked"] == "yes"


def test_non_forwarding_group_starts_from_only_its_kept_configurations(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <let name="x" value="outer"/>
        <group forwarding="false">
            <keep name="y" value="$(var x)-kept"/>
            <executable cmd="echo $(var y)" name="inside"/>
            <let name="probe" value="$(var x)"/>
        </group>
    """)
    with pytest.raises(LaunchError, match="'x' is not set"):
        _parse(path)
    path.write_text(path.read_text().replace('<let name="probe" value="$(var x)"/>', ""))
    assert _parse(path).processes[0].cmd == ("echo", "outer-kept")


def test_group_ns_attribute_is_rejected_with_the_ros2_spelling(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<group ns="robot1"/>')
    with pytest.raises(LaunchError, match="push_ros_namespace"):
        _parse(path)


def test_include_passes_arguments_to_the_included_file(tmp_path):
    _write(tmp_path, "robot.launch.xml", """
        <arg name="robot"/>
        <arg name="rate" default="10"/>
        <node pkg="reflexarc" exec="reflex_node" name="reflex" namespace="$(var robot)">
            <param name="rate_hz" value="$(var rate)"/>
        </node>
    """)
    path = _write(tmp_path, "top.launch.xml", """
        <group><include file="$(dirname)/robot.launch.xml"><arg name="robot" value="r1"/></include></group>
        <group>
            <include file="$(dirname)/robot.launch.xml">
                <arg name="robot" value="r2"/><arg name="rate" value="20"/>
            </include>
        </group>
    """)
    processes = _by_name(_parse(path))
    assert processes["r1/reflex"].node.parameters == (("rate_hz", 10),)
    assert processes["r2/reflex"].node.parameters == (("rate_hz", 20),)


def test_include_outside_a_group_leaks_its_configurations_as_in_ros2(tmp_path):
    _write(tmp_path, "inner.launch.xml", '<arg name="rate" default="10"/>')
    path = _write(tmp_path, "top.launch.xml", '<include file="$(dirname)/inner.launch.xml"/>')
    assert _parse(path).configurations["rate"] == "10"


def test_included_file_missing_a_required_argument_is_reported_at_its_line(tmp_path):
    inner = _write(tmp_path, "inner.launch.xml", '<arg name="robot"/>')
    path = _write(tmp_path, "top.launch.xml", '<include file="$(dirname)/inner.launch.xml"/>')
    with pytest.raises(LaunchError, match=f"{inner.resolve()}:2: <arg>: required launch argument 'robot'"):
        _parse(path)


def test_include_of_a_missing_file_is_an_error(tmp_path):
    path = _write(tmp_path, "top.launch.xml", '<include file="$(dirname)/nope.launch.xml"/>')
    with pytest.raises(LaunchError, match="nope.launch.xml does not exist"):
        _parse(path)


def test_include_cycle_is_an_error(tmp_path):
    _write(tmp_path, "a.launch.xml", '<include file="$(dirname)/b.launch.xml"/>')
    path = _write(tmp_path, "b.launch.xml", '<include file="$(dirname)/a.launch.xml"/>')
    with pytest.raises(LaunchError, match="cycle"):
        _parse(path)


# -- environment ---------------------------------------------------------------------------------------


def test_set_env_applies_to_later_processes_and_env_substitutions(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <executable cmd="before" name="before"/>
        <set_env name="ROS_DOMAIN_ID" value="7"/>
        <executable cmd="after $(env ROS_DOMAIN_ID)" name="after">
            <env name="EXTRA" value="1"/>
        </executable>
        <unset_env name="HOME"/>
        <executable cmd="last" name="last"/>
    """)
    processes = _by_name(_parse(path, environ={"HOME": "/root"}))
    assert processes["before"].env == {}
    assert processes["after"].env == {"ROS_DOMAIN_ID": "7", "EXTRA": "1"}
    assert processes["after"].cmd == ("after", "7")
    assert processes["last"].unset_env == ("HOME",)


def test_set_env_inside_a_scoped_group_stays_inside(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <group><set_env name="MODE" value="sim"/><executable cmd="a" name="inside"/></group>
        <executable cmd="b" name="outside"/>
    """)
    processes = _by_name(_parse(path))
    assert processes["inside"].env == {"MODE": "sim"}
    assert processes["outside"].env == {}


def test_append_env_extends_an_existing_variable(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <append_env name="PYTHONPATH" value="/extra"/>
        <append_env name="PYTHONPATH" value="/first" prepend="true"/>
        <executable cmd="a" name="a"/>
    """)
    (spec,) = _parse(path, environ={"PYTHONPATH": "/base"}).processes
    assert spec.env["PYTHONPATH"] == os.pathsep.join(["/first", "/base", "/extra"])


# -- executables -------------------------------------------------------------------------------------------


def test_executable_command_is_shell_split_but_a_substitution_stays_one_word(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <let name="script" value="/tmp/my script.py"/>
        <executable cmd="python3 -u $(var script) --label 'two words' x$(var script)y" name="run"/>
    """)
    (spec,) = _parse(path).processes
    assert spec.cmd == ("python3", "-u", "/tmp/my script.py", "--label", "two words", "x/tmp/my script.pyy")


def test_required_and_on_exit_shutdown_both_mark_a_process_required(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <executable cmd="a" name="ros2_spelling" on_exit="shutdown"/>
        <executable cmd="b" name="ros1_spelling" required="true"/>
        <executable cmd="c" name="optional"/>
    """)
    assert {n: s.required for n, s in _by_name(_parse(path)).items()} == {
        "ros2_spelling": True, "ros1_spelling": True, "optional": False}


def test_process_options_are_read(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <executable cmd="run" name="run" cwd="/tmp" output="both" shell="true"
                    sigterm_timeout="1.5" sigkill_timeout="0.5" launch-prefix="nice -n 5"/>
    """)
    (spec,) = _parse(path).processes
    assert (spec.cmd, spec.cwd, spec.output, spec.shell, spec.sigterm_timeout, spec.sigkill_timeout) == (
        ("nice", "-n", "5", "run"), "/tmp", "both", True, 1.5, 0.5)


def test_repeated_process_names_get_unique_labels(tmp_path):
    path = _write(tmp_path, "a.launch.xml", """
        <executable cmd="/bin/worker 1"/>
        <executable cmd="/bin/worker 2"/>
    """)
    assert [spec.name for spec in _parse(path).processes] == ["worker", "worker-2"]


def test_log_messages_are_collected(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<arg name="r" default="r1"/><log message="starting $(var r)"/>')
    assert _parse(path).messages == ("starting r1",)


# -- malformed files -------------------------------------------------------------------------------------


def test_unknown_tag_is_an_error_with_its_line(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<arg name="a" default="1"/>\n<rosparam file="x.yaml"/>')
    with pytest.raises(LaunchError, match=r"a.launch.xml:3: <rosparam> is not supported inside <launch>"):
        _parse(path)


def test_misspelt_attribute_is_an_error(tmp_path):
    path = _write(tmp_path, "a.launch.xml", '<node pkg="reflexarc" exec="sim_node" namspace="r1"/>')
    with pytest.raises(LaunchError, match="<node> does not take attribute 'namspace'"):
        _parse(path)


def test_malformed_xml_is_an_error_with_its_line(tmp_path):
    path = tmp_path / "a.launch.xml"
    path.write_text("<launch>\n<arg name='a'>\n</launch>\n", encoding="utf-8")
    with pytest.raises(LaunchError, match=r"a.launch.xml:3: not well-formed XML"):
        _parse(path)


def test_root_must_be_launch(tmp_path):
    path = tmp_path / "a.launch.xml"
    path.write_text("<roslaunch/>", encoding="utf-8")
    with pytest.raises(LaunchError, match="root element must be <launch>"):
        _parse(path)
